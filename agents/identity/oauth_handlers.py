"""OAuth account linking: authorize URL (state + PKCE + nonce), callback, unlink."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from agents.identity.auth_handlers import ensure_signing_key
from agents.identity.emails import normalise_email
from agents.identity.keys import KeyRing
from agents.identity.messages import AuthorizeUrl, Callback, Unlink
from agents.identity.model import LinkedAccount, OAuthState, User
from agents.identity.ports import Cipher, OAuthProvider, ProviderProfile, ProviderTokens
from agents.identity.repository import IdentityRepository
from agents.identity.tokens import TokenService
from agents.identity.user_handlers import IdentityPolicy, derived_id, set_profile
from enginedge_streams.errors import NotFoundError, PermanentError, ValidationError
from enginedge_streams.handlers import CommandContext
from enginedge_streams.ports.clock import Clock


def _provider(providers: Mapping[str, OAuthProvider], name: str) -> OAuthProvider:
    provider = providers.get(name)
    if provider is None:
        raise PermanentError(
            f"OAuth provider {name!r} is not configured", code="PROVIDER_NOT_CONFIGURED"
        )
    return provider


async def handle_authorize_url(
    cmd: AuthorizeUrl,
    *,
    repo: IdentityRepository,
    oauth_providers: Mapping[str, OAuthProvider],
    cipher: Cipher,
    policy: IdentityPolicy,
    clock: Clock,
) -> dict[str, Any]:
    provider = _provider(oauth_providers, cmd.provider)
    redirect_uri = cmd.redirect_uri or policy.redirect_uris.get(cmd.provider)
    if not redirect_uri:
        raise ValidationError("no redirect_uri given or configured", code="INVALID_REDIRECT_URI")
    if cmd.redirect_uri and not any(
        redirect_uri.startswith(p) for p in policy.allowed_redirect_prefixes
    ):
        raise ValidationError("redirect_uri is not allowed", code="INVALID_REDIRECT_URI")
    if cmd.link_user_id:
        repo.require_user(cmd.link_user_id)
    state, verifier, nonce = (
        secrets.token_urlsafe(32),
        secrets.token_urlsafe(64),
        secrets.token_urlsafe(16),
    )
    url = await provider.authorization_url(
        state=state, code_verifier=verifier, nonce=nonce, redirect_uri=redirect_uri
    )
    now = clock.now()
    expires = now + timedelta(seconds=policy.oauth_state_ttl_seconds)
    repo.save_oauth_state(
        OAuthState(
            state=state,
            provider=cmd.provider,
            nonce=nonce,
            redirect_uri=redirect_uri,
            code_verifier_encrypted=cipher.encrypt(verifier.encode(), purpose="pkce-verifier"),
            link_user_id=cmd.link_user_id,
            created_at=now,
            expires_at=expires,
        )
    )
    return {"authorization_url": url, "state": state, "expires_at": expires.isoformat()}


def _resolve_user(
    repo: IdentityRepository,
    st: OAuthState,
    profile: ProviderProfile,
    ctx: CommandContext,
    clock: Clock,
) -> tuple[User, bool]:
    linked = repo.user_id_by_link(st.provider, profile.subject)
    if st.link_user_id:
        user = repo.require_user(st.link_user_id)
        if linked is not None and linked != user.user_id:
            raise PermanentError(
                "this provider account is linked to another user", code="ACCOUNT_ALREADY_LINKED"
            )
        return user, False
    if linked is not None:
        found = repo.user(linked)
        if found is not None:
            return found, False
    email = None
    if profile.email and profile.email_verified:
        email = normalise_email(profile.email)
        owner = repo.user_id_by_email(email)
        if owner is not None and (found := repo.user(owner)) is not None:
            return found, False  # same verified mailbox: the same person
    user_id = derived_id("usr", ctx.command_id)
    existing = repo.user(user_id)
    if existing is not None:  # this command re-run after a crash
        return existing, False
    now = clock.now()
    if email is not None:
        repo.claim_email(email, user_id)
    return User(
        user_id=user_id, email=email, tenant_id=ctx.tenant_id, created_at=now, updated_at=now
    ), True


async def handle_callback(
    cmd: Callback,
    *,
    repo: IdentityRepository,
    oauth_providers: Mapping[str, OAuthProvider],
    cipher: Cipher,
    tokens: TokenService,
    keys: KeyRing,
    clock: Clock,
    ctx: CommandContext,
) -> dict[str, Any]:
    provider = _provider(oauth_providers, cmd.provider)
    st = repo.oauth_state(cmd.state)
    now = clock.now()
    if (
        st is None
        or st.provider != cmd.provider
        or st.expires_at <= now
        or (st.used_by is not None and st.used_by != ctx.command_id)
    ):
        raise PermanentError(
            "unknown, expired or already used OAuth state", code="OAUTH_STATE_MISMATCH"
        )
    st.used_by = ctx.command_id  # one callback per state, recorded before any await
    repo.save_oauth_state(st)
    verifier = cipher.decrypt(st.code_verifier_encrypted, purpose="pkce-verifier").decode()
    provider_tokens: ProviderTokens = await provider.exchange(
        code=cmd.code.get_secret_value(), code_verifier=verifier, redirect_uri=st.redirect_uri
    )
    profile = await provider.profile(provider_tokens, nonce=st.nonce)
    user, created = _resolve_user(repo, st, profile, ctx, clock)
    now = clock.now()
    sealed = cipher.encrypt(
        json.dumps(
            {
                "access_token": provider_tokens.access_token,
                "refresh_token": provider_tokens.refresh_token,
                "expires_at": provider_tokens.expires_at,
                "scope": provider_tokens.scope,
            }
        ).encode(),
        purpose=f"provider-tokens:{cmd.provider}",
    )
    previous = user.links.get(cmd.provider)
    if previous is not None and previous.subject != profile.subject:
        repo.delete_link(cmd.provider, previous.subject)
    user.links[cmd.provider] = LinkedAccount(
        provider=cmd.provider,
        subject=profile.subject,
        email=profile.email,
        linked_at=previous.linked_at if previous and previous.subject == profile.subject else now,
        tokens_encrypted=sealed,
    )
    repo.save_link(cmd.provider, profile.subject, user.user_id)
    merged = set_profile(user, profile.fields, cmd.provider, now)
    user.updated_at = now
    repo.save_user(user)
    await ensure_signing_key(keys, clock)
    issued = tokens.issue(user, clock.now(), seed=ctx.command_id)
    return {
        **issued,
        "user": user.public(),
        "created": created,
        "provider": cmd.provider,
        "profile_fields_updated": merged,
    }


async def handle_unlink(cmd: Unlink, *, repo: IdentityRepository, clock: Clock) -> dict[str, Any]:
    user = repo.require_user(cmd.user_id)
    link = user.links.get(cmd.provider)
    if link is None:
        raise NotFoundError(f"no {cmd.provider} account is linked", code="LINK_NOT_FOUND")
    if user.password_hash is None and len(user.links) == 1:
        raise PermanentError(
            "cannot unlink the only way to sign in; set a password first", code="LAST_LOGIN_METHOD"
        )
    del user.links[cmd.provider]
    repo.delete_link(cmd.provider, link.subject)
    user.updated_at = clock.now()
    repo.save_user(user)
    return {"user": user.public(), "unlinked": cmd.provider}

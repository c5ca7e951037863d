"""Users: register, get, update, delete (argon2id passwords, normalised unique e-mails)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agents.identity.emails import normalise_email
from agents.identity.messages import Register, UpdateUser, UserRef
from agents.identity.model import ProfileField, User
from agents.identity.ports import PasswordHasher
from agents.identity.repository import IdentityRepository
from agents.identity.tokens import TokenService
from enginedge_streams.errors import PermanentError, ValidationError
from enginedge_streams.handlers import CommandContext
from enginedge_streams.ports.clock import Clock

MAX_PROFILE_VALUE = 2_000


@dataclass(frozen=True)
class IdentityPolicy:
    login_limit_per_account: int = 10
    login_limit_per_ip: int = 50
    login_window_seconds: float = 900.0
    oauth_state_ttl_seconds: float = 600.0
    redirect_uris: dict[str, str] = field(default_factory=dict)  # provider -> default
    allowed_redirect_prefixes: tuple[str, ...] = ()


def derived_id(kind: str, command_id: str) -> str:
    return f"{kind}_{hashlib.sha256(command_id.encode()).hexdigest()[:24]}"


def set_profile(user: User, values: dict[str, Any], source: str, now: datetime) -> list[str]:
    """Merge ``values`` into the profile with provenance; a user's own value beats a provider's."""
    changed = []
    for key, value in values.items():
        if not isinstance(key, str) or len(key) > 64 or len(str(value)) > MAX_PROFILE_VALUE:
            raise ValidationError(f"profile field {key!r} is too long", code="INVALID_PROFILE")
        current = user.profile.get(key)
        if source != "user" and current is not None and current.source == "user":
            continue
        if current is not None and current.value == value and current.source == source:
            continue
        user.profile[key] = ProfileField(value=value, source=source, updated_at=now)
        changed.append(key)
    return changed


async def handle_register(
    cmd: Register,
    *,
    repo: IdentityRepository,
    hasher: PasswordHasher,
    clock: Clock,
    ctx: CommandContext,
) -> dict[str, Any]:
    email = normalise_email(cmd.email)
    user_id = derived_id("usr", ctx.command_id)
    owner = repo.user_id_by_email(email)
    if owner is not None:
        existing = repo.user(owner)
        if owner == user_id and existing is not None:  # this very command, re-run
            return {"user": existing.public(), "created": False}
        raise PermanentError("this e-mail address is already registered", code="EMAIL_TAKEN")
    repo.claim_email(email, user_id)  # claimed before the first await: no duplicate race
    try:
        password_hash = await hasher.hash(cmd.password.get_secret_value())
    except BaseException:
        repo.release_email(email, user_id)
        raise
    now = clock.now()
    user = User(
        user_id=user_id,
        email=email,
        password_hash=password_hash,
        roles=sorted(set(cmd.roles)),
        tenant_id=cmd.tenant_id or ctx.tenant_id,
        created_at=now,
        updated_at=now,
    )
    set_profile(user, cmd.profile, "user", now)
    repo.save_user(user)
    return {"user": user.public(), "created": True}


async def handle_get_user(cmd: UserRef, *, repo: IdentityRepository) -> dict[str, Any]:
    return {"user": repo.require_user(cmd.user_id).public()}


async def handle_update_user(
    cmd: UpdateUser,
    *,
    repo: IdentityRepository,
    hasher: PasswordHasher,
    tokens: TokenService,
    clock: Clock,
) -> dict[str, Any]:
    user = repo.require_user(cmd.user_id)
    now = clock.now()
    changed: list[str] = []
    if cmd.email is not None:
        email = normalise_email(cmd.email)
        if email != user.email:
            owner = repo.user_id_by_email(email)
            if owner is not None and owner != user.user_id:
                raise PermanentError(
                    "this e-mail address is already registered", code="EMAIL_TAKEN"
                )
            repo.claim_email(email, user.user_id)
            if user.email:
                repo.release_email(user.email, user.user_id)
            user.email = email
            changed.append("email")
    if cmd.roles is not None and sorted(set(cmd.roles)) != user.roles:
        user.roles = sorted(set(cmd.roles))
        changed.append("roles")
    if "tenant_id" in cmd.model_fields_set and cmd.tenant_id != user.tenant_id:
        user.tenant_id = cmd.tenant_id
        changed.append("tenant_id")
    if cmd.profile:
        changed += [f"profile.{k}" for k in set_profile(user, cmd.profile, "user", now)]
    revoked = 0
    if cmd.disabled is not None and cmd.disabled != user.disabled:
        user.disabled = cmd.disabled
        changed.append("disabled")
        if cmd.disabled:
            revoked = tokens.revoke_user(user.user_id, now, "account disabled")
    if cmd.password is not None:
        user.password_hash = await hasher.hash(cmd.password.get_secret_value())
        changed.append("password")
        revoked = tokens.revoke_user(user.user_id, now, "password changed")
    if changed:
        user.updated_at = now
        repo.save_user(user)
    return {"user": user.public(), "changed": changed, "sessions_revoked": revoked}


async def handle_delete_user(
    cmd: UserRef, *, repo: IdentityRepository, tokens: TokenService, clock: Clock
) -> dict[str, Any]:
    user = repo.user(cmd.user_id)
    if user is None:
        return {"deleted": False, "user_id": cmd.user_id}
    revoked = tokens.revoke_user(user.user_id, clock.now(), "account deleted")
    repo.delete_user(user)
    return {"deleted": True, "user_id": cmd.user_id, "sessions_revoked": revoked}

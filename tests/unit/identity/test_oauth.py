"""OAuth handlers with a scripted provider: state handling, linking rules, profile merge."""

from __future__ import annotations

import json

import pytest

from agents.identity.messages import AuthorizeUrl, Callback, Register, Unlink
from agents.identity.oauth_handlers import handle_authorize_url, handle_callback, handle_unlink
from agents.identity.ports import ProviderProfile, ProviderTokens
from agents.identity.user_handlers import handle_register
from enginedge_streams.errors import NotFoundError, PermanentError, ValidationError
from tests.unit.identity.conftest import call, make_ctx


class ScriptedProvider:
    def __init__(self, name, profile):
        self.name = name
        self.profile_data = profile
        self.exchanged: list[tuple[str, str]] = []

    async def authorization_url(self, *, state, code_verifier, nonce, redirect_uri):
        return f"https://provider/{self.name}/authorize?state={state}&redirect_uri={redirect_uri}"

    async def exchange(self, *, code, code_verifier, redirect_uri):
        if code in {c for c, _ in self.exchanged}:
            raise PermanentError("code used", code="OAUTH_CODE_REJECTED")
        self.exchanged.append((code, code_verifier))
        return ProviderTokens(
            access_token=f"provider-access-{code}", refresh_token="provider-refresh"
        )

    async def profile(self, tokens, *, nonce):
        return self.profile_data


@pytest.fixture
def providers(env):
    env.providers = {
        "github": ScriptedProvider(
            "github",
            ProviderProfile("1001", "dev@example.com", True, {"name": "Dev", "username": "dev"}),
        ),
        "google": ScriptedProvider(
            "google",
            ProviderProfile(
                "g-1", "Dev@Example.com", True, {"name": "Dev G", "avatar_url": "https://a/p.png"}
            ),
        ),
    }
    return env.providers


async def _begin(env, provider="github", **kw):
    return await call(handle_authorize_url, AuthorizeUrl(provider=provider, **kw), env)


async def test_state_is_single_use_bound_to_its_provider_and_pkce_verifier_encrypted(
    env, providers
):
    start = await _begin(env)
    stored = json.loads(env.store.get(f"oauth-state:{start['state']}"))
    assert (
        stored["code_verifier_encrypted"].startswith("v1.")
        and stored["redirect_uri"] == "https://app/cb/github"
    )
    with pytest.raises(PermanentError) as exc:  # issued for github, presented for google
        await call(
            handle_callback, Callback(provider="google", code="c1", state=start["state"]), env
        )
    assert exc.value.code == "OAUTH_STATE_MISMATCH"
    ctx = make_ctx()
    out = await call(
        handle_callback, Callback(provider="github", code="c1", state=start["state"]), env, ctx
    )
    assert out["created"] and out["user"]["email"] == "dev@example.com"
    verifier = providers["github"].exchanged[0][1]
    assert (
        verifier
        == env.cipher.decrypt(stored["code_verifier_encrypted"], purpose="pkce-verifier").decode()
    )
    with pytest.raises(PermanentError) as exc:  # replayed callback (another command)
        await call(
            handle_callback, Callback(provider="github", code="c1", state=start["state"]), env
        )
    assert exc.value.code == "OAUTH_STATE_MISMATCH"
    env.clock.advance(minutes=11)
    late = await _begin(env)
    env.clock.advance(minutes=11)
    with pytest.raises(PermanentError) as exc:  # expired
        await call(
            handle_callback, Callback(provider="github", code="c2", state=late["state"]), env
        )
    assert exc.value.code == "OAUTH_STATE_MISMATCH"


async def test_redirect_uri_must_be_allowed(env, providers):
    with pytest.raises(ValidationError) as exc:
        await _begin(env, redirect_uri="https://evil.example/cb")
    assert exc.value.code == "INVALID_REDIRECT_URI"
    assert (await _begin(env, redirect_uri="https://app/other"))["authorization_url"]


async def test_verified_email_links_existing_user_and_user_fields_win(env, providers):
    user = (
        await call(
            handle_register,
            Register(
                email="dev@example.com", password="long password 1", profile={"name": "My Name"}
            ),
            env,
        )
    )["user"]
    start = await _begin(env, "google")
    out = await call(
        handle_callback, Callback(provider="google", code="g1", state=start["state"]), env
    )
    assert not out["created"] and out["user"]["user_id"] == user["user_id"]
    prof = out["user"]["profile"]
    assert prof["name"]["value"] == "My Name" and prof["name"]["source"] == "user"
    assert prof["avatar_url"] == {
        "value": "https://a/p.png",
        "source": "google",
        "updated_at": prof["avatar_url"]["updated_at"],
    }
    stored = env.repo.user(user["user_id"])
    sealed = stored.links["google"].tokens_encrypted
    assert "provider-access-g1" not in sealed and "provider-access-g1" not in json.dumps(out)
    assert (
        json.loads(env.cipher.decrypt(sealed, purpose="provider-tokens:google"))["access_token"]
        == "provider-access-g1"
    )
    # The same provider account cannot be linked to a second user.
    other = (
        await call(
            handle_register, Register(email="other@example.com", password="long password 2"), env
        )
    )["user"]
    start = await _begin(env, "google", link_user_id=other["user_id"])
    with pytest.raises(PermanentError) as exc:
        await call(
            handle_callback, Callback(provider="google", code="g2", state=start["state"]), env
        )
    assert exc.value.code == "ACCOUNT_ALREADY_LINKED"


async def test_unverified_email_does_not_take_over_an_account(env, providers):
    await call(handle_register, Register(email="dev@example.com", password="long password 1"), env)
    providers["github"].profile_data = ProviderProfile(
        "1002", "dev@example.com", False, {"name": "Mallory"}
    )
    start = await _begin(env)
    out = await call(
        handle_callback, Callback(provider="github", code="m1", state=start["state"]), env
    )
    assert out["created"] and out["user"]["email"] is None  # a new user, no e-mail claimed


async def test_unlink_keeps_at_least_one_way_in(env, providers):
    start = await _begin(env)
    out = await call(
        handle_callback, Callback(provider="github", code="c1", state=start["state"]), env
    )
    uid = out["user"]["user_id"]
    with pytest.raises(PermanentError) as exc:
        await call(handle_unlink, Unlink(user_id=uid, provider="github"), env)
    assert exc.value.code == "LAST_LOGIN_METHOD"
    start = await _begin(env, "google", link_user_id=uid)
    await call(handle_callback, Callback(provider="google", code="g1", state=start["state"]), env)
    out = await call(handle_unlink, Unlink(user_id=uid, provider="github"), env)
    assert [a["provider"] for a in out["user"]["linked_accounts"]] == ["google"]
    assert env.repo.user_id_by_link("github", "1001") is None
    with pytest.raises(NotFoundError):
        await call(handle_unlink, Unlink(user_id=uid, provider="github"), env)

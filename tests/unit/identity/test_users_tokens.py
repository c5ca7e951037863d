"""Users, login, refresh rotation with reuse detection, revoke, verify, key rotation."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt as pyjwt  # an independent JOSE library checks what joserfc signed
import pytest
from pydantic import ValidationError as PydanticValidationError

from agents.identity.argon2_password_hasher import Argon2PasswordHasher
from agents.identity.auth_handlers import (
    handle_login,
    handle_refresh,
    handle_revoke,
    handle_rotate_keys,
    handle_verify,
)
from agents.identity.emails import normalise_email
from agents.identity.messages import Login, Register, RotateKeys, TokenIn, UpdateUser, UserRef
from agents.identity.user_handlers import (
    handle_delete_user,
    handle_get_user,
    handle_register,
    handle_update_user,
)
from enginedge_streams.errors import LimitExceededError, PermanentError, ValidationError
from tests.unit.identity.conftest import ACCESS_TTL, call, make_ctx

PW = "correct horse battery staple"


async def _register(env, email="Alice@Example.COM", password=PW, **kw):
    return (await call(handle_register, Register(email=email, password=password, **kw), env))[
        "user"
    ]


async def _login(env, email="alice@example.com", password=PW, ip=None, ctx=None):
    return await call(handle_login, Login(email=email, password=password, ip=ip), env, ctx)


def independent_verify(env, token, audience="aud-test"):
    jwks = env.keys.jwks(env.clock.now())
    kid = pyjwt.get_unverified_header(token)["kid"]
    key = next(pyjwt.PyJWK(k) for k in jwks["keys"] if k["kid"] == kid)
    return pyjwt.decode(
        token,
        key.key,
        algorithms=["RS256"],
        audience=audience,
        issuer="iss-test",
        options={"verify_exp": False},
    )


def test_email_normalisation():
    assert normalise_email("  Alice.Smith+x@EXAMPLE.com ") == "alice.smith+x@example.com"
    assert normalise_email("ÄNNE@Bücher.de") == "änne@xn--bcher-kva.de"
    for bad in ("nope", "a@b", "@example.com", "a b@example.com"):
        with pytest.raises(ValidationError):
            normalise_email(bad)


async def test_register_normalises_and_keeps_emails_unique(env):
    ctx = make_ctx(tenant_id="acme")
    user = (
        await call(
            handle_register,
            Register(email=" Alice@Example.COM ", password=PW, roles=["admin", "user"]),
            env,
            ctx,
        )
    )["user"]
    assert (
        user["email"] == "alice@example.com"
        and user["roles"] == ["admin", "user"]
        and user["tenant_id"] == "acme"
    )
    again = await call(handle_register, Register(email="alice@example.com", password=PW), env, ctx)
    assert (
        not again["created"] and again["user"]["user_id"] == user["user_id"]
    )  # re-run of the command
    with pytest.raises(PermanentError) as exc:
        await _register(env, "ALICE@example.com")
    assert exc.value.code == "EMAIL_TAKEN"
    stored = env.repo.user(user["user_id"])
    assert PW not in stored.model_dump_json() and "password_hash" not in json.dumps(user)
    with pytest.raises(PydanticValidationError) as perr:
        Register(email="x@example.com", password="pw12345")
    assert "pw12345" not in str(perr.value)  # secrets never echoed in validation errors


async def test_argon2id_hashes_verify_and_rehash():
    weak = Argon2PasswordHasher(time_cost=1, memory_cost_kib=8192, parallelism=1)
    strong = Argon2PasswordHasher(time_cost=2, memory_cost_kib=9216, parallelism=1)
    h = await weak.hash(PW)
    assert h.startswith("$argon2id$v=19$m=8192,t=1,p=1$")
    assert await weak.verify(h, PW) and not await weak.verify(h, PW + "!")
    assert not await weak.verify("garbage", PW)
    assert strong.needs_rehash(h) and not weak.needs_rehash(h)


async def test_login_issues_jwt_verified_by_an_independent_library(env):
    user = await _register(env, tenant_id="t1", roles=["user", "editor"])
    out = await _login(env)
    claims = independent_verify(env, out["access_token"])
    assert (
        claims["sub"] == user["user_id"]
        and claims["roles"] == ["editor", "user"]
        and claims["tenant"] == "t1"
    )
    assert claims["exp"] - claims["iat"] == int(ACCESS_TTL.total_seconds()) and claims["jti"]
    assert pyjwt.get_unverified_header(out["access_token"])["typ"] == "at+jwt"
    assert out["refresh_token"].count(".") == 1 and out["token_type"] == "Bearer"
    with pytest.raises(pyjwt.InvalidAudienceError):
        independent_verify(env, out["access_token"], audience="someone-else")
    # The stored refresh record has only a hash of the secret.
    token_id, secret = out["refresh_token"].split(".")
    assert secret not in env.store.get(f"rt:{token_id}").decode()


async def test_unknown_user_and_wrong_password_are_indistinguishable(env):
    await _register(env)
    errors = []
    for email, pw in (("nobody@example.com", PW), ("alice@example.com", "wrong password")):
        with pytest.raises(PermanentError) as exc:
            await _login(env, email, pw)
        errors.append((exc.value.code, exc.value.message, exc.value.details))
    assert errors[0] == errors[1] == ("INVALID_CREDENTIALS", "invalid e-mail or password", {})
    assert env.hasher.burns == 1  # the unknown user still paid for a hash check


async def test_login_throttled_per_account_and_per_ip(env):
    await _register(env)
    await _register(env, "bob@example.com")
    for _ in range(10):  # successful logins are not counted
        assert (await _login(env, ip="10.0.0.1"))["access_token"]
    for _ in range(3):
        with pytest.raises(PermanentError) as exc:
            await _login(env, password="nope", ip="10.0.0.1")
        assert exc.value.code == "INVALID_CREDENTIALS"
    with pytest.raises(LimitExceededError) as exc:
        await _login(env, ip="10.0.0.9")  # right password, but the account is locked for the window
    assert exc.value.code == "LOGIN_THROTTLED" and exc.value.details["scope"] == "account"
    assert exc.value.details["retry_after"] > 0
    assert (await _login(env, "bob@example.com", ip="10.0.0.1"))[
        "access_token"
    ]  # other accounts fine
    for _ in range(2):  # failures 4 and 5 from this IP
        with pytest.raises(PermanentError):
            await _login(env, "bob@example.com", "nope", ip="10.0.0.1")
    with pytest.raises(LimitExceededError) as exc:
        await _login(env, "bob@example.com", ip="10.0.0.1")  # 5 failures per IP reached
    assert exc.value.details["scope"] == "IP address"
    assert (await _login(env, "bob@example.com", ip="10.0.0.2"))["access_token"]  # other IP fine


async def test_refresh_rotation_reuse_detection_revokes_the_family(env):
    await _register(env)
    first = await _login(env)
    second = await call(handle_refresh, TokenIn(token=first["refresh_token"]), env)
    assert second["refresh_token"] != first["refresh_token"]
    assert (await call(handle_verify, TokenIn(token=second["access_token"]), env))["active"]
    # The same refresh command re-run (crash after the write) hands out the same tokens.
    ctx = make_ctx()
    third = await call(handle_refresh, TokenIn(token=second["refresh_token"]), env, ctx)
    third_again = await call(handle_refresh, TokenIn(token=second["refresh_token"]), env, ctx)
    assert third["refresh_token"] == third_again["refresh_token"]
    # A stolen, already-used token comes back: the whole family dies.
    with pytest.raises(PermanentError) as exc:
        await call(handle_refresh, TokenIn(token=first["refresh_token"]), env)
    assert exc.value.code == "TOKEN_REUSED"
    with pytest.raises(PermanentError) as exc:
        await call(handle_refresh, TokenIn(token=third["refresh_token"]), env)
    assert exc.value.code == "TOKEN_REVOKED"
    assert await call(handle_verify, TokenIn(token=third["access_token"]), env) == {
        "active": False,
        "error": "TOKEN_REVOKED",
    }
    # A new login starts a new, healthy family.
    assert (await call(handle_verify, TokenIn(token=(await _login(env))["access_token"]), env))[
        "active"
    ]


async def test_revoke_access_and_refresh_tokens(env):
    await _register(env)
    a, b = await _login(env), await _login(env)
    assert (await call(handle_revoke, TokenIn(token=a["access_token"]), env))[
        "revoked"
    ] == "access_token"
    assert (await call(handle_verify, TokenIn(token=a["access_token"]), env))[
        "error"
    ] == "TOKEN_REVOKED"
    assert (await call(handle_verify, TokenIn(token=b["access_token"]), env))[
        "active"
    ]  # other session fine
    await call(handle_revoke, TokenIn(token=b["refresh_token"]), env)
    with pytest.raises(PermanentError) as exc:
        await call(handle_refresh, TokenIn(token=b["refresh_token"]), env)
    assert exc.value.code == "TOKEN_REVOKED"
    with pytest.raises(PermanentError):
        await call(handle_revoke, TokenIn(token="not-a-token-at-all"), env)


async def test_tampered_expired_and_wrong_audience_tokens_are_rejected(env):
    from agents.identity.tokens import TokenService

    await _register(env)
    good = (await _login(env))["access_token"]
    head, body, sig = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["roles"] = ["admin"]
    forged = ".".join(
        [head, base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("="), sig]
    )
    assert await call(handle_verify, TokenIn(token=forged), env) == {
        "active": False,
        "error": "INVALID_TOKEN",
    }
    other_aud = TokenService(
        env.repo,
        env.keys,
        issuer="iss-test",
        audience="other",
        access_ttl=ACCESS_TTL,
        refresh_ttl=timedelta(days=1),
        derivation_key=b"x" * 32,
    )
    user = env.repo.user(env.repo.user_id_by_email("alice@example.com"))
    wrong = other_aud.access_token(user, "fam", env.clock.now(), "seed")
    assert await call(handle_verify, TokenIn(token=wrong), env) == {
        "active": False,
        "error": "INVALID_TOKEN",
    }
    env.clock.advance(minutes=16)
    assert await call(handle_verify, TokenIn(token=good), env) == {
        "active": False,
        "error": "TOKEN_EXPIRED",
    }


async def test_key_rotation_keeps_old_tokens_valid_until_they_expire(env):
    await _register(env)
    old = (await _login(env))["access_token"]
    kid1 = pyjwt.get_unverified_header(old)["kid"]
    stored = json.loads(env.store.get(f"key:{kid1}"))
    assert stored["private_encrypted"].startswith("v1.") and "PRIVATE KEY" not in json.dumps(stored)
    env.clock.advance(minutes=5)
    rotated = await call(handle_rotate_keys, RotateKeys(reason="manual"), env)
    new = (await _login(env))["access_token"]
    kid2 = pyjwt.get_unverified_header(new)["kid"]
    assert rotated["kid"] == kid2 != kid1 and set(rotated["published"]) == {kid1, kid2}
    assert (await call(handle_verify, TokenIn(token=old), env))["active"]  # old key still published
    independent_verify(env, old)
    assert not (await call(handle_rotate_keys, RotateKeys(reason="scheduled"), env))["rotated"]
    env.clock.advance(minutes=25)  # every token of key 1 has expired (15 min TTL + 5 min leeway)
    await call(handle_rotate_keys, RotateKeys(reason="manual"), env)
    kids = {k["kid"] for k in env.keys.jwks(env.clock.now())["keys"]}
    assert kid1 not in kids and kid2 in kids and len(kids) == 2


async def test_user_update_get_delete(env):
    user = await _register(env)
    await _register(env, "bob@example.com")
    session = await _login(env)
    with pytest.raises(PermanentError) as exc:
        await call(
            handle_update_user, UpdateUser(user_id=user["user_id"], email="BOB@example.com"), env
        )
    assert exc.value.code == "EMAIL_TAKEN"
    out = await call(
        handle_update_user,
        UpdateUser(
            user_id=user["user_id"],
            email="alice2@example.com",
            profile={"name": "Alice"},
            password="a new long password",
        ),
        env,
    )
    assert (
        set(out["changed"]) == {"email", "profile.name", "password"}
        and out["sessions_revoked"] == 1
    )
    assert not (await call(handle_verify, TokenIn(token=session["access_token"]), env))["active"]
    got = (await call(handle_get_user, UserRef(user_id=user["user_id"]), env))["user"]
    assert got["email"] == "alice2@example.com" and got["profile"]["name"]["source"] == "user"
    assert (await _login(env, "alice2@example.com", "a new long password"))["access_token"]
    assert env.repo.user_id_by_email("alice@example.com") is None  # the old address is free again
    assert (await call(handle_delete_user, UserRef(user_id=user["user_id"]), env))["deleted"]
    with pytest.raises(PermanentError) as exc:
        await _login(env, "alice2@example.com", "a new long password")
    assert exc.value.code == "INVALID_CREDENTIALS"

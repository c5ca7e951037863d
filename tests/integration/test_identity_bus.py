"""The identity worker on the real Kafka and Redis, with a local OAuth/OIDC provider.

One worker process for the module. Every secret the tests see (passwords, our tokens, the
provider's tokens and codes, client secrets, the encryption key) is collected and, last,
searched for in every line the worker logged.
"""

from __future__ import annotations

import base64
import json
import os
import time
import urllib.parse
import uuid

import jwt as pyjwt  # independent verification of what the worker signs
import pytest

from enginedge_streams.records import Status
from tests.support.oauth_provider import LocalOAuthProvider, Person, follow_authorization
from tests.support.workers import http_get

pytestmark = pytest.mark.timeout(180)
SECRETS: list[str] = []
ENC_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()


@pytest.fixture(scope="module")
def provider():
    p = LocalOAuthProvider()
    p.start()
    p.people = {
        "github": Person("424242", "gh.user@example.com", login="octo"),
        "google": Person("g-sub-1", "Gina@Example.com", name="Gina G."),
        "linkedin": Person("li-sub-9", "someone-else@example.com", name="Gina (LinkedIn)"),
    }
    yield p
    p.stop()


@pytest.fixture(scope="module")
def identity_worker(module_worker_factory, provider):
    gh, go, li = provider.client("github"), provider.client("google"), provider.client("linkedin")
    SECRETS.extend([ENC_KEY, gh.client_secret, go.client_secret, li.client_secret])
    return module_worker_factory(
        "identity",
        env={
            "IDENTITY_ENCRYPTION_KEY": ENC_KEY,
            "SIGNING_KEY_CHECK_SECONDS": "2",
            "LOGIN_LIMIT_PER_ACCOUNT": "4",
            "OAUTH_REDIRECT_URI_BASE": "http://127.0.0.1:9/oauth/callback",
            "OAUTH_GITHUB_CLIENT_ID": gh.client_id,
            "OAUTH_GITHUB_CLIENT_SECRET": gh.client_secret,
            "OAUTH_GITHUB_AUTHORIZE_URL": f"{provider.url}/github/login/oauth/authorize",
            "OAUTH_GITHUB_TOKEN_URL": f"{provider.url}/github/login/oauth/access_token",
            "OAUTH_GITHUB_API_URL": f"{provider.url}/github/api",
            "OAUTH_GOOGLE_CLIENT_ID": go.client_id,
            "OAUTH_GOOGLE_CLIENT_SECRET": go.client_secret,
            "OAUTH_GOOGLE_ISSUER": provider.issuer("google"),
            "OAUTH_LINKEDIN_CLIENT_ID": li.client_id,
            "OAUTH_LINKEDIN_CLIENT_SECRET": li.client_secret,
            "OAUTH_LINKEDIN_ISSUER": provider.issuer("linkedin"),
        },
    )


async def _call(bus, ctype, payload):
    return await bus.call("identity", ctype, payload, timeout=60)


async def _ok(bus, ctype, payload):
    r = await _call(bus, ctype, payload)
    assert r.status is Status.COMPLETED, (ctype, r.error)
    for key in ("access_token", "refresh_token"):
        if isinstance(r.result, dict) and key in r.result:
            SECRETS.append(r.result[key])
            SECRETS.append(r.result[key].split(".")[-1])  # the signature / the refresh secret alone
    return r.result


def _jwks(worker):
    status, body = http_get(f"{worker.url}/.well-known/jwks.json")
    assert status == 200
    return json.loads(body)


def verify_with_published_jwks(worker, token, audience="enginedge"):
    jwks = pyjwt.PyJWKSet.from_dict(_jwks(worker))
    kid = pyjwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    return pyjwt.decode(
        token, key.key, algorithms=["RS256"], audience=audience, issuer="enginedge-identity"
    )


async def test_signing_key_exists_after_first_start(identity_worker):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not _jwks(identity_worker)["keys"]:
        time.sleep(0.5)
    keys = _jwks(identity_worker)["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256"
    assert "d" not in keys[0] and "p" not in keys[0]  # public halves only


async def test_register_login_refresh_reuse_revoke_and_rotation(identity_worker, module_bus):
    bus = module_bus
    email, password = f"Eve.{uuid.uuid4().hex[:6]}@Example.COM", f"pw-{uuid.uuid4().hex}"
    SECRETS.append(password)
    user = (
        await _ok(
            bus,
            "user.register",
            {"email": email, "password": password, "roles": ["user", "admin"], "tenant_id": "acme"},
        )
    )["user"]
    assert user["email"] == email.lower()
    dup = await _call(bus, "user.register", {"email": email.upper(), "password": password})
    assert dup.status is Status.FAILED and dup.error.code == "EMAIL_TAKEN"
    login_result = await _call(
        bus, "auth.login", {"email": email, "password": password, "ip": "192.0.2.10"}
    )
    login = login_result.result
    SECRETS.extend([login["access_token"], login["refresh_token"]])
    status, body = http_get(f"{identity_worker.url}/commands/{login_result.command_id}")
    view = json.loads(body)  # the status endpoint does not serve the tokens
    assert status == 200 and view["status"] == "COMPLETED" and view["result"]["redacted"] is True
    assert login["access_token"] not in body.decode() and view["result"]["result"] is None
    claims = verify_with_published_jwks(identity_worker, login["access_token"])
    assert (
        claims["sub"] == user["user_id"]
        and claims["tenant"] == "acme"
        and claims["roles"] == ["admin", "user"]
    )
    assert {"iss", "aud", "exp", "iat", "jti"} <= set(claims)
    with pytest.raises(pyjwt.InvalidAudienceError):
        verify_with_published_jwks(identity_worker, login["access_token"], audience="another-api")
    head, body, sig = login["access_token"].split(".")
    tampered = f"{head}.{body[:-2]}{'A' if body[-2] != 'A' else 'B'}{body[-1]}.{sig}"
    assert (await _ok(bus, "auth.verify", {"token": tampered})) == {
        "active": False,
        "error": "INVALID_TOKEN",
    }
    # Rotation of refresh tokens, then reuse of the old one revokes the family.
    rotated = await _ok(bus, "auth.refresh", {"token": login["refresh_token"]})
    assert rotated["refresh_token"] != login["refresh_token"]
    reuse = await _call(bus, "auth.refresh", {"token": login["refresh_token"]})
    assert reuse.status is Status.FAILED and reuse.error.code == "TOKEN_REUSED"
    assert (await _ok(bus, "auth.verify", {"token": rotated["access_token"]}))[
        "error"
    ] == "TOKEN_REVOKED"
    # A new session; revoke its access token explicitly.
    session = await _ok(bus, "auth.login", {"email": email, "password": password})
    assert (await _ok(bus, "auth.verify", {"token": session["access_token"]}))["active"]
    await _ok(bus, "auth.revoke", {"token": session["access_token"]})
    assert (await _ok(bus, "auth.verify", {"token": session["access_token"]}))[
        "error"
    ] == "TOKEN_REVOKED"
    # Key rotation: old tokens keep verifying (ours and the JWKS), new ones use the new key.
    before = (await _ok(bus, "auth.login", {"email": email, "password": password}))["access_token"]
    rot = await _ok(bus, "keys.rotate", {"reason": "manual"})
    after = (await _ok(bus, "auth.login", {"email": email, "password": password}))["access_token"]
    assert (
        pyjwt.get_unverified_header(after)["kid"]
        == rot["kid"]
        != pyjwt.get_unverified_header(before)["kid"]
    )
    assert len(_jwks(identity_worker)["keys"]) == 2
    assert (await _ok(bus, "auth.verify", {"token": before}))["active"]
    verify_with_published_jwks(identity_worker, before)
    verify_with_published_jwks(identity_worker, after)


async def test_uniform_errors_and_login_throttling_in_redis(identity_worker, module_bus):
    bus = module_bus
    email, password = f"t{uuid.uuid4().hex[:8]}@example.com", f"pw-{uuid.uuid4().hex}"
    SECRETS.append(password)
    await _ok(bus, "user.register", {"email": email, "password": password})
    unknown = await _call(
        bus,
        "auth.login",
        {"email": f"nobody{uuid.uuid4().hex[:6]}@example.com", "password": password},
    )
    wrong = await _call(bus, "auth.login", {"email": email, "password": password + "x"})
    assert (
        (unknown.error.code, unknown.error.message)
        == (wrong.error.code, wrong.error.message)
        == ("INVALID_CREDENTIALS", "invalid e-mail or password")
    )
    for _ in range(3):  # 1 wrong above + 3 = the limit of 4
        await _call(bus, "auth.login", {"email": email, "password": "wrong-" + password})
    throttled = await _call(bus, "auth.login", {"email": email, "password": password})
    assert throttled.status is Status.FAILED and throttled.error.code == "LOGIN_THROTTLED"
    assert throttled.error.details["retry_after"] > 0 and throttled.attempts == 1  # not retried


async def _oauth(bus, provider_name, **extra):
    start = await _ok(bus, "oauth.authorize_url", {"provider": provider_name, **extra})
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(start["authorization_url"]).query))
    assert (
        q["state"] == start["state"]
        and q["code_challenge_method"] == "S256"
        and q["code_challenge"]
    )
    redirected = follow_authorization(start["authorization_url"])
    SECRETS.append(redirected.code)
    return start, redirected


async def test_oauth_github_google_linkedin_end_to_end(identity_worker, module_bus, provider):
    bus = module_bus
    # GitHub: a new user is created from the verified primary e-mail.
    _, r = await _oauth(bus, "github")
    gh = await _ok(bus, "oauth.callback", {"provider": "github", "code": r.code, "state": r.state})
    assert gh["created"] and gh["user"]["email"] == "gh.user@example.com"
    assert gh["user"]["linked_accounts"][0]["subject"] == "424242"
    assert (
        gh["user"]["profile"]["username"]["value"] == "octo"
        and gh["user"]["profile"]["username"]["source"] == "github"
    )
    verify_with_published_jwks(identity_worker, gh["access_token"])
    # The same callback again (replayed state + code): refused, nothing created.
    replay = await _call(
        bus, "oauth.callback", {"provider": "github", "code": r.code, "state": r.state}
    )
    assert replay.status is Status.FAILED and replay.error.code == "OAUTH_STATE_MISMATCH"
    # A replayed code under a fresh, valid state: the provider rejects it.
    start2 = await _ok(bus, "oauth.authorize_url", {"provider": "github"})
    replay2 = await _call(
        bus, "oauth.callback", {"provider": "github", "code": r.code, "state": start2["state"]}
    )
    assert replay2.status is Status.FAILED and replay2.error.code == "OAUTH_CODE_REJECTED"
    assert ("token-rejected", "replayed") in provider.events
    # A state we never issued.
    forged = await _call(
        bus, "oauth.callback", {"provider": "github", "code": "x", "state": "s" * 43}
    )
    assert forged.error.code == "OAUTH_STATE_MISMATCH"
    # A state issued for another provider.
    g_start = await _ok(bus, "oauth.authorize_url", {"provider": "google"})
    wrong = await _call(
        bus, "oauth.callback", {"provider": "github", "code": "x", "state": g_start["state"]}
    )
    assert wrong.error.code == "OAUTH_STATE_MISMATCH"
    # Google (OIDC): ID token checked (nonce, aud, iss); a user registered with the same
    # verified address is linked, not duplicated; profile fields merged with provenance.
    password = f"pw-{uuid.uuid4().hex}"
    SECRETS.append(password)
    gina = (
        await _ok(
            bus,
            "user.register",
            {
                "email": "gina@example.com",
                "password": password,
                "profile": {"name": "Gina (set by Gina)"},
            },
        )
    )["user"]
    _, r = await _oauth(bus, "google")
    g = await _ok(bus, "oauth.callback", {"provider": "google", "code": r.code, "state": r.state})
    assert not g["created"] and g["user"]["user_id"] == gina["user_id"]
    prof = g["user"]["profile"]
    assert prof["name"] == {
        "value": "Gina (set by Gina)",
        "source": "user",
        "updated_at": prof["name"]["updated_at"],
    }
    assert prof["avatar_url"]["source"] == "google" and prof["locale"]["value"] == "en-GB"
    # LinkedIn (OIDC) linked explicitly to Gina although its e-mail differs.
    _, r = await _oauth(bus, "linkedin", link_user_id=gina["user_id"])
    li = await _ok(
        bus, "oauth.callback", {"provider": "linkedin", "code": r.code, "state": r.state}
    )
    assert {a["provider"] for a in li["user"]["linked_accounts"]} == {"google", "linkedin"}
    assert li["user"]["profile"][
        "given_name" if "given_name" in li["user"]["profile"] else "avatar_url"
    ]
    # Unlink; the GitHub-only user cannot drop its only way in.
    out = await _ok(bus, "oauth.unlink", {"user_id": gina["user_id"], "provider": "linkedin"})
    assert {a["provider"] for a in out["user"]["linked_accounts"]} == {"google"}
    last = await _call(
        bus, "oauth.unlink", {"user_id": gh["user"]["user_id"], "provider": "github"}
    )
    assert last.error.code == "LAST_LOGIN_METHOD"
    SECRETS.extend(provider.issued)


async def test_no_password_or_token_in_any_log_line(identity_worker, module_bus):
    await _ok(module_bus, "system.ping", {})
    metrics = http_get(f"{identity_worker.url}/metrics")[1].decode()
    calls = [l for l in metrics.splitlines() if l.startswith("worker_external_api_calls_total")]
    assert any('api="oauth_github"' in l for l in calls) and any(
        'api="oauth_google"' in l for l in calls
    )
    identity_worker.stop()
    lines = identity_worker.log_lines()
    assert len(lines) > 20
    secrets_seen = [s for s in SECRETS if s and len(s) >= 8]
    assert len(secrets_seen) > 20
    leaks = [(s[:6], line[:120]) for line in lines for s in secrets_seen if s in line]
    assert leaks == []

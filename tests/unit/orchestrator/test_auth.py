"""HTTP authentication: JWTs against a JWKS (rotation, claims, algorithms) and the static token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from pydantic import SecretStr

from agents.orchestrator.jwks_authenticator import JwksAuthenticator
from agents.orchestrator.ports import Unauthorized
from agents.orchestrator.static_token_authenticator import StaticTokenAuthenticator

K1 = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256", "use": "sig"})
K2 = RSAKey.generate_key(2048, parameters={"kid": "k2", "alg": "RS256", "use": "sig"})


class Jwks:
    def __init__(self, *keys):
        self.keys = list(keys)
        self.calls = 0

    async def __call__(self):
        self.calls += 1
        return {"keys": [k.as_dict(private=False) for k in self.keys]}


def token(key=K1, *, typ="at+jwt", alg="RS256", **claims) -> str:
    now = int(time.time())
    body = {
        "iss": "enginedge-identity",
        "aud": "enginedge",
        "sub": "user-1",
        "iat": now,
        "exp": now + 300,
        "tenant": "acme",
        **claims,
    }
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode({"alg": alg, "kid": key.kid, "typ": typ}, body, key)


def auth(jwks, **kw) -> JwksAuthenticator:
    return JwksAuthenticator(
        "http://127.0.0.1:1/jwks",
        issuer="enginedge-identity",
        audience="enginedge",
        fetch=jwks,
        **kw,
    )


async def test_a_valid_access_token_gives_its_user_and_tenant():
    a = auth(Jwks(K1))
    who = await a.authenticate(f"Bearer {token()}")
    assert (who.kind, who.user_id, who.tenant_id) == ("jwt", "user-1", "acme")


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda: token(aud="other"), "aud"),
        (lambda: token(iss="someone-else"), "iss"),
        (lambda: token(exp=int(time.time()) - 120), "expired"),
        (lambda: token(sub=None), "sub"),
        (lambda: token(typ="JWT"), "not an access token"),
        (lambda: token(K2), "InvalidKeyIdError"),  # signed by a key the JWKS does not have
        (lambda: token(K1)[:-4] + "AAAA", "BadSignatureError"),
        (lambda: "not-a-jwt", "bearer JWT"),
    ],
)
async def test_bad_tokens_are_refused(make, why):
    a = auth(Jwks(K1), refetch_every_s=0.0)
    with pytest.raises(Unauthorized, match=why):
        await a.authenticate(f"Bearer {make()}")


async def test_hmac_tokens_are_refused_even_with_the_public_key_as_secret():
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    header = b64(json.dumps({"alg": "HS256", "kid": "k1", "typ": "at+jwt"}).encode())
    claims = {
        "iss": "enginedge-identity",
        "aud": "enginedge",
        "sub": "x",
        "exp": int(time.time()) + 60,
    }
    body = b64(json.dumps(claims).encode())
    mac = hmac.new(K1.as_pem(private=False), f"{header}.{body}".encode(), hashlib.sha256)
    forged = f"{header}.{body}.{b64(mac.digest())}"
    with pytest.raises(Unauthorized, match="token rejected"):
        await auth(Jwks(K1)).authenticate(f"Bearer {forged}")


async def test_a_rotated_key_is_fetched_once_and_then_cached():
    jwks = Jwks(K1)
    a = auth(jwks, refetch_every_s=0.0)
    await a.authenticate(f"Bearer {token()}")
    await a.authenticate(f"Bearer {token()}")
    assert jwks.calls == 1  # cached
    jwks.keys.append(K2)  # the identity worker rotated its signing key
    who = await a.authenticate(f"Bearer {token(K2)}")
    assert who.user_id == "user-1" and jwks.calls == 2


async def test_the_static_token():
    a = StaticTokenAuthenticator(SecretStr("s3cret"))
    assert (await a.authenticate("Bearer s3cret")).kind == "token"
    with pytest.raises(Unauthorized):
        await a.authenticate("Bearer wrong")
    with pytest.raises(Unauthorized, match="API is off"):
        await StaticTokenAuthenticator(None).authenticate("Bearer s3cret")

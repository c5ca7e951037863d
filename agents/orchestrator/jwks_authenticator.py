"""The ``Authenticator`` port on JWT access tokens verified with the identity worker's JWKS.

Keys come from ``GET IDENTITY_JWKS_URL`` (aiohttp), are kept for
JWKS_CACHE_SECONDS and fetched again at once (at most every 10 s) when a
token names an unknown ``kid`` — so a key rotation is picked up. Checks:
signature (RS256/ES256/EdDSA only, never ``none`` or HMAC), ``typ`` at+jwt,
``iss``, ``aud``, ``exp``/``nbf`` (30 s leeway) and ``sub``. Verification is
stateless: a revoked token stays valid here until it expires.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from agents.orchestrator.ports import Principal, Unauthorized

ALGORITHMS = ["RS256", "ES256", "EdDSA"]
REFETCH_EVERY_S = 10.0


class JwksAuthenticator:
    def __init__(
        self,
        jwks_url: str,
        *,
        issuer: str,
        audience: str,
        cache_seconds: float = 300.0,
        leeway_seconds: int = 30,
        timeout_seconds: float = 5.0,
        refetch_every_s: float = REFETCH_EVERY_S,
        fetch: Callable[[], Awaitable[dict[str, Any]]] | None = None,
    ) -> None:
        self.jwks_url = jwks_url
        self.issuer = issuer
        self.audience = audience
        self.cache_seconds = cache_seconds
        self.leeway = leeway_seconds
        self.timeout = timeout_seconds
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self._session: aiohttp.ClientSession | None = None
        self._lock = asyncio.Lock()
        self._fetch_json = fetch or self._http_json
        self.fetches = 0
        self.refetch_every_s = refetch_every_s

    async def start(self) -> None:
        return None  # the session is made on first use

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def ready(self) -> tuple[bool, str]:
        try:
            keys = await self._keyset(force=False)
        except Unauthorized as exc:
            return False, exc.message
        return True, f"{len(keys.keys)} signing key(s) from {self.jwks_url}"

    async def _fetch(self) -> KeySet:
        self.fetches += 1
        try:
            data: Any = await self._fetch_json()
            return KeySet.import_key_set(data)
        except (aiohttp.ClientError, TimeoutError, ValueError, JoseError) as exc:
            raise Unauthorized(f"cannot load the signing keys: {type(exc).__name__}") from None

    async def _http_json(self) -> dict[str, Any]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        async with self._session.get(self.jwks_url) as resp:
            if resp.status != 200:
                raise Unauthorized(f"the JWKS answered HTTP {resp.status}")
            data: Any = await resp.json(content_type=None)
        if not isinstance(data, dict):
            raise ValueError("the JWKS is not a JSON object")
        return data

    async def _keyset(self, *, force: bool) -> KeySet:
        async with self._lock:
            age = time.monotonic() - self._fetched_at
            stale = self._keys is None or age > self.cache_seconds
            if stale or (force and age > self.refetch_every_s):
                self._keys = await self._fetch()
                self._fetched_at = time.monotonic()
            assert self._keys is not None
            return self._keys

    async def authenticate(self, authorization: str) -> Principal:
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or token.count(".") != 2:
            raise Unauthorized("a bearer JWT access token is required")
        keys = await self._keyset(force=False)
        try:
            decoded = jwt.decode(token, keys, algorithms=ALGORITHMS)
        except InvalidKeyIdError:
            keys = await self._keyset(force=True)  # a rotated key: look again once
            try:
                decoded = jwt.decode(token, keys, algorithms=ALGORITHMS)
            except (JoseError, ValueError) as exc:
                raise Unauthorized(f"token rejected: {type(exc).__name__}") from None
        except (JoseError, ValueError) as exc:
            raise Unauthorized(f"token rejected: {type(exc).__name__}") from None
        if str(decoded.header.get("typ", "")).lower() != "at+jwt":
            raise Unauthorized("token rejected: not an access token (typ at+jwt)")
        claims = dict(decoded.claims)
        registry = jwt.JWTClaimsRegistry(
            now=int(time.time()),
            leeway=self.leeway,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.audience},
            exp={"essential": True},
            sub={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise Unauthorized(
                f"token rejected: {exc.error}: {exc.description or ''}".strip()
            ) from None
        tenant = claims.get("tenant")
        return Principal(
            kind="jwt",
            user_id=str(claims["sub"]),
            tenant_id=str(tenant) if tenant else None,
        )

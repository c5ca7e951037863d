"""Signing keys: generated on first start, private halves encrypted at rest, rotated on a
schedule; a retired key stays in the JWKS until every token it signed has expired."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from joserfc.jwk import KeySet, RSAKey

from agents.identity.model import SigningKey
from agents.identity.ports import Cipher
from agents.identity.repository import IdentityRepository

ALG = "RS256"
PURPOSE = "signing-key"


@dataclass
class _Loaded:
    version: tuple[int, int]
    active: tuple[str, RSAKey] | None
    published: list[SigningKey]
    keyset: KeySet


class KeyRing:
    def __init__(
        self,
        repo: IdentityRepository,
        cipher: Cipher,
        *,
        access_ttl: timedelta,
        rotation_period: timedelta,
        key_bits: int = 2048,
        leeway: timedelta = timedelta(minutes=5),
    ) -> None:
        self.repo = repo
        self.cipher = cipher
        self.access_ttl = access_ttl
        self.rotation_period = rotation_period
        self.key_bits = key_bits
        self.leeway = leeway
        self._cache: _Loaded | None = None

    def _published(self, key: SigningKey, now: datetime) -> bool:
        return key.retired_at is None or key.retired_at + self.access_ttl + self.leeway > now

    def _load(self, now: datetime) -> _Loaded:
        cache = self._cache
        if cache is not None and cache.version == self.repo.keys_version:
            return cache
        keys = self.repo.signing_keys()
        published = [k for k in keys if self._published(k, now)]
        current = [k for k in keys if k.retired_at is None]
        active = None
        if current:
            newest = current[-1]
            pem = self.cipher.decrypt(newest.private_encrypted, purpose=PURPOSE)
            active = (
                newest.kid,
                RSAKey.import_key(pem, parameters={"kid": newest.kid, "alg": ALG}),
            )
        keyset = KeySet([RSAKey.import_key(k.public_jwk) for k in published])
        self._cache = _Loaded(self.repo.keys_version, active, published, keyset)
        return self._cache

    def active(self, now: datetime) -> tuple[str, RSAKey] | None:
        return self._load(now).active

    def keyset(self, now: datetime) -> KeySet:
        return self._load(now).keyset

    def jwks(self, now: datetime) -> dict[str, Any]:
        return {
            "keys": [k.public_jwk for k in self._load(now).published if self._published(k, now)]
        }

    def needs_rotation(self, now: datetime) -> bool:
        current = [k for k in self.repo.signing_keys() if k.retired_at is None]
        return not current or current[-1].created_at + self.rotation_period <= now

    async def generate(self) -> RSAKey:
        return await asyncio.to_thread(RSAKey.generate_key, self.key_bits, None, True)

    def install(self, key: RSAKey, now: datetime) -> SigningKey:
        """Make ``key`` the signing key; retire the current one; drop keys no token can use."""
        public = key.as_dict(private=False)
        kid = (
            base64.urlsafe_b64encode(hashlib.sha256(str(public["n"]).encode()).digest()[:12])
            .decode()
            .rstrip("=")
        )
        record = SigningKey(
            kid=kid,
            alg=ALG,
            public_jwk={**public, "kid": kid, "alg": ALG, "use": "sig"},
            private_encrypted=self.cipher.encrypt(key.as_pem(private=True), purpose=PURPOSE),
            created_at=now,
        )
        for old in self.repo.signing_keys():
            if old.retired_at is None:
                old.retired_at = now
                self.repo.save_signing_key(old)
            elif not self._published(old, now):
                self.repo.delete_signing_key(old.kid)
        self.repo.save_signing_key(record)
        return record

"""Deterministic adapters for the identity worker's own ports (unit tests).

The store and the clock are the platform's fakes (``enginedge_streams.testing``)."""

from __future__ import annotations

import hashlib
import hmac


class FastPasswordHasher:
    """PBKDF2 with few rounds: same contract as argon2id, fast enough for unit tests."""

    def __init__(self) -> None:
        self.burns = 0

    async def hash(self, password: str) -> str:
        salt = hashlib.sha256(password.encode()).hexdigest()[:16]
        return (
            "fake$"
            + salt
            + "$"
            + hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 10).hex()
        )

    async def verify(self, stored: str, password: str) -> bool:
        return hmac.compare_digest(stored, await self.hash(password))

    def needs_rehash(self, stored: str) -> bool:
        return not stored.startswith("fake$")

    async def burn(self, password: str) -> None:
        self.burns += 1
        await self.hash(password)

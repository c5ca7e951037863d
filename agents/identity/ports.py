"""Ports of the identity worker (state, password hashing, encryption, OAuth providers, clock)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


class KeyValueStore(Protocol):
    """Durable state (a RocksDB Faust table in production). Writes only inside a command."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, value: bytes) -> None: ...

    def delete(self, key: str) -> None: ...

    def keys(self, prefix: str) -> list[str]: ...

    def scan(self, prefix: str) -> Iterator[tuple[str, bytes]]: ...


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, stored: str, password: str) -> bool: ...

    def needs_rehash(self, stored: str) -> bool: ...

    async def burn(self, password: str) -> None:
        """Spend the same time as a verify (for unknown users: no timing oracle)."""
        ...


class Cipher(Protocol):
    """Authenticated encryption of secrets at rest (signing keys, provider tokens)."""

    def encrypt(self, plaintext: bytes, *, purpose: str) -> str: ...

    def decrypt(self, token: str, *, purpose: str) -> bytes: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass
class ProviderTokens:
    access_token: str
    refresh_token: str | None = None
    expires_at: int | None = None
    scope: str | None = None
    id_token: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class ProviderProfile:
    subject: str  # the provider's stable user id ("sub", or GitHub's numeric id)
    email: str | None
    email_verified: bool
    fields: dict[str, Any]  # name, given_name, avatar_url, locale, ...


class OAuthProvider(Protocol):
    """One OAuth 2.0 / OpenID Connect provider (GitHub, Google, LinkedIn)."""

    name: str

    async def authorization_url(
        self, *, state: str, code_verifier: str, nonce: str, redirect_uri: str
    ) -> str: ...

    async def exchange(
        self, *, code: str, code_verifier: str, redirect_uri: str
    ) -> ProviderTokens: ...

    async def profile(self, tokens: ProviderTokens, *, nonce: str) -> ProviderProfile: ...

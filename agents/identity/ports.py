"""Ports only the identity worker uses (password hashing, encryption, OAuth providers).

State and time are the platform's ``KeyValueStore`` and ``Clock`` (``enginedge_streams.ports``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


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

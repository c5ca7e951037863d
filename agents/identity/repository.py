"""Typed access to identity state over the ``KeyValueStore`` port.

Keys: ``user:<id>``, ``email:<normalised email>`` -> user id, ``link:<provider>:<subject>`` ->
user id, ``rt:<token id>``, ``fam:<family id>``, ``fam-user:<user>:<family>``, ``key:<kid>``,
``oauth-state:<state>``, ``deny:<jti>`` -> expiry.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel

from agents.identity.model import Family, OAuthState, RefreshRecord, SigningKey, User
from enginedge_streams.errors import NotFoundError
from enginedge_streams.ports.key_value_store import KeyValueStore

M = TypeVar("M", bound=BaseModel)


class IdentityRepository:
    def __init__(self, store: KeyValueStore) -> None:
        self.store = store
        self._key_changes = 0

    @property
    def keys_version(self) -> tuple[int, int]:
        """Changes with every signing-key write and every rebuild of the store."""
        return int(getattr(self.store, "generation", 0)), self._key_changes

    def _get(self, key: str, model: type[M]) -> M | None:
        raw = self.store.get(key)
        return None if raw is None else model.model_validate_json(raw)

    def _put(self, key: str, value: BaseModel) -> None:
        self.store.put(key, value.model_dump_json().encode())

    # users
    def user(self, user_id: str) -> User | None:
        return self._get(f"user:{user_id}", User)

    def require_user(self, user_id: str) -> User:
        user = self.user(user_id)
        if user is None:
            raise NotFoundError(f"no user {user_id!r}", code="USER_NOT_FOUND")
        return user

    def save_user(self, user: User) -> None:
        self._put(f"user:{user.user_id}", user)

    def delete_user(self, user: User) -> None:
        self.store.delete(f"user:{user.user_id}")
        if user.email:
            self.release_email(user.email, user.user_id)
        for link in user.links.values():
            self.store.delete(f"link:{link.provider}:{link.subject}")

    def user_id_by_email(self, email: str) -> str | None:
        raw = self.store.get(f"email:{email}")
        return None if raw is None else raw.decode()

    def claim_email(self, email: str, user_id: str) -> None:
        self.store.put(f"email:{email}", user_id.encode())

    def release_email(self, email: str, user_id: str) -> None:
        if self.user_id_by_email(email) == user_id:
            self.store.delete(f"email:{email}")

    def user_id_by_link(self, provider: str, subject: str) -> str | None:
        raw = self.store.get(f"link:{provider}:{subject}")
        return None if raw is None else raw.decode()

    def save_link(self, provider: str, subject: str, user_id: str) -> None:
        self.store.put(f"link:{provider}:{subject}", user_id.encode())

    def delete_link(self, provider: str, subject: str) -> None:
        self.store.delete(f"link:{provider}:{subject}")

    # refresh tokens and families
    def refresh(self, token_id: str) -> RefreshRecord | None:
        return self._get(f"rt:{token_id}", RefreshRecord)

    def save_refresh(self, record: RefreshRecord) -> None:
        self._put(f"rt:{record.token_id}", record)

    def family(self, family_id: str) -> Family | None:
        return self._get(f"fam:{family_id}", Family)

    def save_family(self, family: Family) -> None:
        self._put(f"fam:{family.family_id}", family)
        self.store.put(f"fam-user:{family.user_id}:{family.family_id}", b"1")

    def families_of(self, user_id: str) -> list[Family]:
        out = []
        for key in self.store.keys(f"fam-user:{user_id}:"):
            fam = self.family(key.rsplit(":", 1)[1])
            if fam is not None:
                out.append(fam)
        return out

    # access-token denylist
    def deny(self, jti: str, until: datetime) -> None:
        self.store.put(f"deny:{jti}", until.isoformat().encode())

    def denied(self, jti: str) -> bool:
        return self.store.get(f"deny:{jti}") is not None

    # signing keys
    def signing_keys(self) -> list[SigningKey]:
        return sorted(
            (SigningKey.model_validate_json(v) for _, v in self.store.scan("key:")),
            key=lambda k: k.created_at,
        )

    def save_signing_key(self, key: SigningKey) -> None:
        self._put(f"key:{key.kid}", key)
        self._key_changes += 1

    def delete_signing_key(self, kid: str) -> None:
        self.store.delete(f"key:{kid}")
        self._key_changes += 1

    # OAuth states
    def oauth_state(self, state: str) -> OAuthState | None:
        return self._get(f"oauth-state:{state}", OAuthState)

    def save_oauth_state(self, st: OAuthState) -> None:
        self._put(f"oauth-state:{st.state}", st)

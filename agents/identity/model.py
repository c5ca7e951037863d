"""Stored identity records (JSON in the worker's table)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Stored(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ProfileField(_Stored):
    value: Any
    source: str  # "user" or a provider name
    updated_at: datetime


class LinkedAccount(_Stored):
    provider: str
    subject: str
    email: str | None = None
    linked_at: datetime
    tokens_encrypted: str | None = None  # AES-GCM, never logged or returned


class User(_Stored):
    user_id: str
    email: str | None  # normalised; None for an OAuth-only user without an email
    password_hash: str | None = None
    roles: list[str] = Field(default_factory=lambda: ["user"])
    tenant_id: str | None = None
    created_at: datetime
    updated_at: datetime
    disabled: bool = False
    profile: dict[str, ProfileField] = Field(default_factory=dict)
    links: dict[str, LinkedAccount] = Field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "email": self.email,
            "roles": self.roles,
            "tenant_id": self.tenant_id,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "disabled": self.disabled,
            "has_password": self.password_hash is not None,
            "profile": {k: v.model_dump(mode="json") for k, v in self.profile.items()},
            "linked_accounts": sorted(
                (
                    {
                        "provider": a.provider,
                        "subject": a.subject,
                        "email": a.email,
                        "linked_at": a.linked_at.isoformat(),
                    }
                    for a in self.links.values()
                ),
                key=lambda a: a["provider"],
            ),
        }


class RefreshRecord(_Stored):
    token_id: str
    family_id: str
    user_id: str
    secret_hash: str  # sha256 of the secret part; the token itself is never stored
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    replaced_by: str | None = None
    revoked: bool = False


class Family(_Stored):
    family_id: str
    user_id: str
    created_at: datetime
    revoked_at: datetime | None = None
    revoked_reason: str | None = None


class SigningKey(_Stored):
    kid: str
    alg: str
    public_jwk: dict[str, Any]
    private_encrypted: str
    created_at: datetime
    retired_at: datetime | None = None  # no longer signs; still published until tokens expire


class OAuthState(_Stored):
    state: str
    provider: str
    code_verifier_encrypted: str
    nonce: str
    redirect_uri: str
    link_user_id: str | None = None
    created_at: datetime
    expires_at: datetime
    used_by: str | None = None  # the command that consumed it

"""Payloads of the identity worker's commands (extra fields forbidden, sizes bounded).

Secrets (passwords, tokens) travel as ``SecretStr``: they never appear in a
``repr``, in validation error messages or in logs.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

IdStr = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._@:-]+$")
]
Email = Annotated[str, StringConstraints(min_length=3, max_length=320)]
Provider = Literal["github", "google", "linkedin"]
Role = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_:-]*$")
]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class Register(_Payload):
    """`user.register`."""

    email: Email
    password: SecretStr = Field(min_length=8, max_length=1024)
    roles: list[Role] = Field(default_factory=lambda: ["user"], max_length=20)
    tenant_id: str | None = Field(None, max_length=200)
    profile: dict[str, Any] = Field(default_factory=dict, max_length=50)


class UserRef(_Payload):
    """`user.get` / `user.delete`."""

    user_id: IdStr


class UpdateUser(_Payload):
    """`user.update`: change email, password, roles, tenant or profile fields."""

    user_id: IdStr
    email: Email | None = None
    password: SecretStr | None = Field(None, min_length=8, max_length=1024)
    roles: list[Role] | None = Field(None, max_length=20)
    tenant_id: str | None = Field(None, max_length=200)
    profile: dict[str, Any] | None = Field(None, max_length=50)
    disabled: bool | None = None


class Login(_Payload):
    """`auth.login`: email + password -> access and refresh tokens."""

    email: Email
    password: SecretStr = Field(min_length=1, max_length=1024)
    ip: str | None = Field(None, max_length=64, description="Client IP (for per-IP throttling).")


class TokenIn(_Payload):
    """`auth.refresh` / `auth.revoke` / `auth.verify`."""

    token: SecretStr = Field(min_length=10, max_length=8192)


class RotateKeys(_Payload):
    """`keys.rotate`: make a new signing key (old ones stay published until their tokens expire)."""

    reason: Literal["initial", "scheduled", "manual"] = "manual"


class AuthorizeUrl(_Payload):
    """`oauth.authorize_url`: where to send the browser (state + PKCE + nonce are kept here)."""

    provider: Provider
    redirect_uri: str | None = Field(None, max_length=2000)
    link_user_id: IdStr | None = Field(None, description="Link to this existing user.")


class Callback(_Payload):
    """`oauth.callback`: the provider redirected back with `code` and `state`."""

    provider: Provider
    code: SecretStr = Field(min_length=1, max_length=4096)
    state: str = Field(min_length=16, max_length=200)


class Unlink(_Payload):
    """`oauth.unlink`."""

    user_id: IdStr
    provider: Provider

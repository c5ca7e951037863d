"""The ``Authenticator`` port with one static bearer token (the platform's API_TOKEN)."""

from __future__ import annotations

from pydantic import SecretStr

from agents.orchestrator.ports import Principal, Unauthorized
from enginedge_streams.web.auth import bearer_ok


class StaticTokenAuthenticator:
    def __init__(self, token: SecretStr | None) -> None:
        self.token = token

    async def authenticate(self, authorization: str) -> Principal:
        if self.token is None or not self.token.get_secret_value():
            raise Unauthorized(
                "the orchestrator's HTTP API is off: set API_TOKEN, or IDENTITY_JWKS_URL for JWTs"
            )
        if not bearer_ok({"Authorization": authorization}, self.token):
            raise Unauthorized("a valid bearer token is required")
        return Principal(kind="token")

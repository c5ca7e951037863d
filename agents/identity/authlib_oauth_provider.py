"""The ``OAuthProvider`` port with Authlib: GitHub (OAuth 2.0), Google and LinkedIn (OIDC).

Authorization requests carry ``state``, a PKCE ``code_challenge`` (S256) and,
for OIDC, a ``nonce``. The code exchange goes through Authlib's
``AsyncOAuth2Client``; OIDC ID tokens are verified with the provider's JWKS
(issuer, audience, expiry, nonce) before the userinfo endpoint is read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from agents.identity.ports import ProviderProfile, ProviderTokens
from enginedge_streams.errors import DependencyUnavailableError, PermanentError


@dataclass(frozen=True)
class ProviderConfig:
    name: str
    kind: str  # "github" or "oidc"
    client_id: str
    client_secret: str
    scope: str
    issuer: str = ""  # oidc: discovery at <issuer>/.well-known/openid-configuration
    authorize_url: str = ""  # github
    token_url: str = ""  # github
    api_url: str = ""  # github REST API


class AuthlibOAuthProvider:
    def __init__(
        self,
        config: ProviderConfig,
        *,
        timeout: float = 15.0,
        on_call: Callable[[bool], None] | None = None,
    ) -> None:
        self.config = config
        self.name = config.name
        self.timeout = timeout
        self._metadata: dict[str, Any] | None = None
        #: metrics hook: called with ``error`` after every request to the provider
        self.on_call: Callable[[bool], None] = on_call or (lambda error: None)

    def _client(self, **kwargs: Any) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.config.client_id,
            client_secret=self.config.client_secret,
            scope=self.config.scope,
            code_challenge_method="S256",
            timeout=self.timeout,
            **kwargs,
        )

    async def _meta(self) -> dict[str, Any]:
        if self.config.kind == "github":
            return {
                "authorization_endpoint": self.config.authorize_url,
                "token_endpoint": self.config.token_url,
            }
        if self._metadata is None:
            url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
            data = await self._get_json(url)
            if data.get("issuer") != self.config.issuer:
                raise PermanentError(
                    f"{self.name}: discovery issuer mismatch", code="OAUTH_PROVIDER_ERROR"
                )
            self._metadata = data
        return self._metadata

    async def _get_json(self, url: str, token: str | None = None) -> Any:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                resp = await client.get(url, headers=headers)
        except httpx.HTTPError as exc:
            self.on_call(True)
            raise DependencyUnavailableError(f"{self.name}: {type(exc).__name__}") from exc
        self.on_call(resp.status_code != 200)
        if resp.status_code >= 500:
            raise DependencyUnavailableError(f"{self.name}: {url} answered {resp.status_code}")
        if resp.status_code != 200:
            raise PermanentError(
                f"{self.name}: {url} answered {resp.status_code}", code="OAUTH_PROVIDER_ERROR"
            )
        return resp.json()

    async def authorization_url(
        self, *, state: str, code_verifier: str, nonce: str, redirect_uri: str
    ) -> str:
        meta = await self._meta()
        extra = {"nonce": nonce} if self.config.kind == "oidc" else {}
        async with self._client(redirect_uri=redirect_uri) as client:
            url, _ = client.create_authorization_url(
                meta["authorization_endpoint"], state=state, code_verifier=code_verifier, **extra
            )
        return str(url)

    async def exchange(self, *, code: str, code_verifier: str, redirect_uri: str) -> ProviderTokens:
        from authlib.integrations.base_client.errors import OAuthError

        meta = await self._meta()
        try:
            async with self._client(redirect_uri=redirect_uri) as client:
                token = await client.fetch_token(
                    meta["token_endpoint"],
                    code=code,
                    code_verifier=code_verifier,
                    redirect_uri=redirect_uri,
                    headers={"Accept": "application/json"},
                )
        except OAuthError as exc:
            self.on_call(True)
            raise PermanentError(
                f"{self.name} rejected the authorization code ({exc.error})",
                code="OAUTH_CODE_REJECTED",
            ) from None
        except httpx.HTTPError as exc:
            self.on_call(True)
            raise DependencyUnavailableError(f"{self.name}: {type(exc).__name__}") from exc
        self.on_call(False)
        if "access_token" not in token:
            raise PermanentError(
                f"{self.name}: no access_token in the token response", code="OAUTH_PROVIDER_ERROR"
            )
        return ProviderTokens(
            access_token=token["access_token"],
            refresh_token=token.get("refresh_token"),
            expires_at=token.get("expires_at"),
            scope=token.get("scope"),
            id_token=token.get("id_token"),
            raw={k: v for k, v in token.items() if k in ("token_type", "scope", "expires_in")},
        )

    async def profile(self, tokens: ProviderTokens, *, nonce: str) -> ProviderProfile:
        if self.config.kind == "github":
            return await self._github_profile(tokens)
        return await self._oidc_profile(tokens, nonce)

    async def _github_profile(self, tokens: ProviderTokens) -> ProviderProfile:
        api = self.config.api_url.rstrip("/")
        user = await self._get_json(f"{api}/user", tokens.access_token)
        emails = await self._get_json(f"{api}/user/emails", tokens.access_token)
        primary = (
            next((e for e in emails if e.get("primary")), None)
            if isinstance(emails, list)
            else None
        )
        fields = {
            k: user.get(v)
            for k, v in (
                ("name", "name"),
                ("username", "login"),
                ("avatar_url", "avatar_url"),
                ("bio", "bio"),
                ("location", "location"),
                ("website", "blog"),
            )
            if user.get(v)
        }
        return ProviderProfile(
            subject=str(user["id"]),
            email=primary["email"] if primary else user.get("email"),
            email_verified=bool(primary and primary.get("verified")),
            fields=fields,
        )

    async def _oidc_profile(self, tokens: ProviderTokens, nonce: str) -> ProviderProfile:
        meta = await self._meta()
        if not tokens.id_token:
            raise PermanentError(
                f"{self.name}: no id_token (is the openid scope set?)", code="OAUTH_PROVIDER_ERROR"
            )
        jwks = await self._get_json(meta["jwks_uri"])
        try:
            decoded = jwt.decode(
                tokens.id_token,
                KeySet.import_key_set(jwks),
                algorithms=meta.get("id_token_signing_alg_values_supported") or ["RS256"],
            )
            jwt.JWTClaimsRegistry(
                leeway=60,
                iss={"essential": True, "value": self.config.issuer},
                aud={"essential": True, "value": self.config.client_id},
                exp={"essential": True},
                sub={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise PermanentError(
                f"{self.name}: ID token rejected ({type(exc).__name__})",
                code="OAUTH_ID_TOKEN_INVALID",
            ) from None
        claims = dict(decoded.claims)
        if meta.get("userinfo_endpoint"):
            info = await self._get_json(meta["userinfo_endpoint"], tokens.access_token)
            if str(info.get("sub")) != str(claims["sub"]):
                raise PermanentError(
                    f"{self.name}: userinfo subject mismatch", code="OAUTH_PROVIDER_ERROR"
                )
            claims.update(info)
        fields = {
            k: claims[k]
            for k in ("name", "given_name", "family_name", "picture", "locale")
            if claims.get(k)
        }
        if "picture" in fields:
            fields["avatar_url"] = fields.pop("picture")
        verified = claims.get("email_verified")
        return ProviderProfile(
            subject=str(claims["sub"]),
            email=claims.get("email"),
            email_verified=verified is True or str(verified).lower() == "true",
            fields=fields,
        )

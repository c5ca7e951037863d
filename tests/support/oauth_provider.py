"""A local OAuth 2.0 / OpenID Connect provider for tests (127.0.0.1, own thread and loop).

It speaks the parts of GitHub's OAuth + REST API and of an OIDC provider
(Google, LinkedIn) that the identity worker uses: authorization endpoint
(auto-approves the configured user and redirects with ``code`` and ``state``),
token endpoint (client authentication, ``redirect_uri`` match, PKCE S256
verified with Authlib's helper, one-time codes), discovery, JWKS, ID tokens
(RS256 with ``nonce``), userinfo, GitHub ``/user`` and ``/user/emails``.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import RSAKey


@dataclass
class Person:
    subject: str
    email: str
    email_verified: bool = True
    name: str = "Test Person"
    picture: str = "https://example.invalid/a.png"
    login: str = "tester"


@dataclass
class Client:
    client_id: str
    client_secret: str


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    method: str
    nonce: str | None
    person: Person
    tenant: str


class LocalOAuthProvider:
    def __init__(self) -> None:
        self.clients: dict[str, Client] = {}
        self.people: dict[
            str, Person
        ] = {}  # tenant ("github", "google", "linkedin") -> who approves
        self.codes: dict[str, _Grant] = {}
        self.used_codes: set[str] = set()
        self.tokens: dict[str, tuple[str, Person]] = {}
        self.issued: list[str] = []  # every access/refresh/id token value handed out
        self.events: list[tuple[str, str]] = []
        self.key = RSAKey.generate_key(
            2048, parameters={"kid": "provider-key", "alg": "RS256", "use": "sig"}
        )
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    def client(self, tenant: str) -> Client:
        if tenant not in self.clients:
            self.clients[tenant] = Client(
                f"{tenant}-client-{secrets.token_hex(4)}",
                f"{tenant}-secret-{secrets.token_hex(12)}",
            )
        return self.clients[tenant]

    # -- lifecycle (a thread with its own loop: lives across tests' event loops) ------

    def start(self) -> str:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self._start())
            ready.set()
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="oauth-provider", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self.url

    async def _start(self) -> None:
        app = web.Application()
        for tenant in ("google", "linkedin"):
            app.router.add_get(f"/{tenant}/.well-known/openid-configuration", self.discovery)
            app.router.add_get(f"/{tenant}/authorize", self.authorize)
            app.router.add_post(f"/{tenant}/token", self.token)
            app.router.add_get(f"/{tenant}/jwks", self.jwks)
            app.router.add_get(f"/{tenant}/userinfo", self.userinfo)
        app.router.add_get("/github/login/oauth/authorize", self.authorize)
        app.router.add_post("/github/login/oauth/access_token", self.token)
        app.router.add_get("/github/api/user", self.github_user)
        app.router.add_get("/github/api/user/emails", self.github_emails)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self._loop is None:
            return
        fut = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)  # type: ignore[union-attr]
        fut.result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def issuer(self, tenant: str) -> str:
        return f"{self.url}/{tenant}"

    @staticmethod
    def _tenant(request: web.Request) -> str:
        return request.path.strip("/").split("/")[0]

    # -- endpoints --------------------------------------------------------------------

    async def discovery(self, request: web.Request) -> web.Response:
        iss = self.issuer(self._tenant(request))
        return web.json_response(
            {
                "issuer": iss,
                "authorization_endpoint": f"{iss}/authorize",
                "token_endpoint": f"{iss}/token",
                "jwks_uri": f"{iss}/jwks",
                "userinfo_endpoint": f"{iss}/userinfo",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "subject_types_supported": ["public"],
            }
        )

    async def jwks(self, request: web.Request) -> web.Response:
        return web.json_response({"keys": [self.key.as_dict(private=False)]})

    async def authorize(self, request: web.Request) -> web.Response:
        q = request.query
        tenant = self._tenant(request)
        client = self.clients.get(tenant)
        if (
            client is None
            or q.get("client_id") != client.client_id
            or q.get("response_type") != "code"
        ):
            return web.json_response({"error": "unauthorized_client"}, status=400)
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return web.json_response(
                {"error": "invalid_request", "error_description": "PKCE required"}, status=400
            )
        if tenant != "github" and not q.get("nonce"):
            return web.json_response(
                {"error": "invalid_request", "error_description": "nonce required"}, status=400
            )
        code = secrets.token_urlsafe(24)
        self.codes[code] = _Grant(
            client.client_id,
            q["redirect_uri"],
            q["code_challenge"],
            "S256",
            q.get("nonce"),
            self.people[tenant],
            tenant,
        )
        self.events.append(("authorize", tenant))
        location = f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q.get('state', '')})}"
        raise web.HTTPFound(location)

    def _client_auth(self, request: web.Request, form: Any) -> str | None:
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        else:
            cid, secret = form.get("client_id", ""), form.get("client_secret", "")
        from urllib.parse import unquote

        cid, secret = unquote(cid), unquote(secret)
        for c in self.clients.values():
            if c.client_id == cid and secrets.compare_digest(c.client_secret, secret):
                return cid
        return None

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        cid = self._client_auth(request, form)
        if cid is None:
            return web.json_response({"error": "invalid_client"}, status=401)
        code = str(form.get("code", ""))
        grant = self.codes.pop(code, None)
        if grant is None:
            self.events.append(
                ("token-rejected", "replayed" if code in self.used_codes else "unknown")
            )
            return web.json_response(
                {"error": "invalid_grant", "error_description": "code invalid or used"}, status=400
            )
        self.used_codes.add(code)
        if grant.client_id != cid or form.get("redirect_uri") != grant.redirect_uri:
            return web.json_response(
                {"error": "invalid_grant", "error_description": "client/redirect mismatch"},
                status=400,
            )
        verifier = str(form.get("code_verifier", ""))
        if create_s256_code_challenge(verifier) != grant.challenge:
            return web.json_response(
                {"error": "invalid_grant", "error_description": "PKCE mismatch"}, status=400
            )
        access, refresh = "pat_" + secrets.token_urlsafe(24), "prt_" + secrets.token_urlsafe(24)
        self.tokens[access] = (grant.tenant, grant.person)
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "bearer",
            "scope": "openid email profile",
            "expires_in": 3600,
            "refresh_token": refresh,
        }
        if grant.tenant != "github":
            now = int(time.time())
            p = grant.person
            body["id_token"] = jwt.encode(
                {"alg": "RS256", "kid": "provider-key"},
                {
                    "iss": self.issuer(grant.tenant),
                    "aud": cid,
                    "sub": p.subject,
                    "iat": now,
                    "exp": now + 600,
                    "nonce": grant.nonce,
                    "email": p.email,
                    "email_verified": p.email_verified,
                },
                self.key,
            )
            self.issued.append(body["id_token"])
        self.issued += [access, refresh]
        self.events.append(("token", grant.tenant))
        return web.json_response(body)

    def _bearer(self, request: web.Request) -> tuple[str, Person] | None:
        auth = request.headers.get("Authorization", "")
        return self.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None

    async def userinfo(self, request: web.Request) -> web.Response:
        found = self._bearer(request)
        if found is None:
            return web.json_response({"error": "invalid_token"}, status=401)
        _, p = found
        return web.json_response(
            {
                "sub": p.subject,
                "email": p.email,
                "email_verified": p.email_verified,
                "name": p.name,
                "picture": p.picture,
                "locale": "en-GB",
            }
        )

    async def github_user(self, request: web.Request) -> web.Response:
        found = self._bearer(request)
        if found is None:
            return web.json_response({"message": "Bad credentials"}, status=401)
        _, p = found
        return web.json_response(
            {
                "id": int(p.subject),
                "login": p.login,
                "name": p.name,
                "avatar_url": p.picture,
                "email": None,
                "bio": "builds things",
            }
        )

    async def github_emails(self, request: web.Request) -> web.Response:
        found = self._bearer(request)
        if found is None:
            return web.json_response({"message": "Bad credentials"}, status=401)
        _, p = found
        return web.json_response(
            [
                {"email": "old@example.com", "primary": False, "verified": True},
                {"email": p.email, "primary": True, "verified": p.email_verified},
            ]
        )


@dataclass
class Redirected:
    code: str
    state: str
    location: str = field(default="")


def follow_authorization(url: str) -> Redirected:
    """Act as the browser: open the authorization URL, read the redirect back to us."""
    import urllib.parse

    import httpx

    resp = httpx.get(url, follow_redirects=False, timeout=10)
    assert resp.status_code == 302, (resp.status_code, resp.text)
    location = resp.headers["location"]
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    return Redirected(q["code"], q["state"], location)

"""Declarations only: the identity worker's table, adapters, commands, JWKS route and timer."""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import timedelta
from typing import Any

import faust

from agents.identity.aesgcm_cipher import AesGcmCipher, parse_key
from agents.identity.argon2_password_hasher import Argon2PasswordHasher
from agents.identity.auth_handlers import rotation_command_id
from agents.identity.authlib_oauth_provider import AuthlibOAuthProvider, ProviderConfig
from agents.identity.handlers import COMMANDS
from agents.identity.http import install_routes
from agents.identity.keys import KeyRing
from agents.identity.ports import OAuthProvider
from agents.identity.repository import IdentityRepository
from agents.identity.settings import IdentitySettings
from agents.identity.tokens import TokenService
from agents.identity.user_handlers import IdentityPolicy
from enginedge_streams.container import Container
from enginedge_streams.errors import ConfigError
from enginedge_streams.logs import REDACTOR
from enginedge_streams.metrics import WorkerMetrics
from enginedge_streams.records import Command
from enginedge_streams.settings import load, secret_values
from enginedge_streams.worker import Worker
from tables.identity import create_identity_table
from tables.kv import FaustKeyValueStore

WORKER_TYPE = "identity"
log = logging.getLogger("enginedge.identity")


def oauth_providers(
    s: IdentitySettings, metrics: WorkerMetrics | None = None
) -> dict[str, OAuthProvider]:
    out: dict[str, OAuthProvider] = {}
    t = s.oauth_http_timeout_seconds

    def counter(name: str) -> Any:
        if metrics is None:
            return None
        return lambda error: metrics.external_call(f"oauth_{name}", error=error)

    if s.oauth_github_client_id and s.oauth_github_client_secret:
        out["github"] = AuthlibOAuthProvider(
            ProviderConfig(
                "github",
                "github",
                s.oauth_github_client_id,
                s.oauth_github_client_secret.get_secret_value(),
                "read:user user:email",
                authorize_url=s.oauth_github_authorize_url,
                token_url=s.oauth_github_token_url,
                api_url=s.oauth_github_api_url,
            ),
            timeout=t,
            on_call=counter("github"),
        )
    for name, cid, secret, issuer in (
        ("google", s.oauth_google_client_id, s.oauth_google_client_secret, s.oauth_google_issuer),
        (
            "linkedin",
            s.oauth_linkedin_client_id,
            s.oauth_linkedin_client_secret,
            s.oauth_linkedin_issuer,
        ),
    ):
        if cid and secret:
            out[name] = AuthlibOAuthProvider(
                ProviderConfig(
                    name,
                    "oidc",
                    cid,
                    secret.get_secret_value(),
                    "openid email profile",
                    issuer=issuer,
                ),
                timeout=t,
                on_call=counter(name),
            )
    return out


def register(app: faust.App, container: Container) -> Any:
    settings = load(IdentitySettings)
    if settings.identity_encryption_key is None:
        raise ConfigError(
            "IDENTITY_ENCRYPTION_KEY is required by the identity worker (base64url, 32 bytes): "
            "it encrypts signing keys and provider tokens at rest"
        )
    raw_key = parse_key(settings.identity_encryption_key.get_secret_value())
    REDACTOR.add(*secret_values(settings))
    worker = Worker(app, container, WORKER_TYPE)
    table = create_identity_table(app, partitions=container.settings.topic_partitions)
    store = container.manage(container.provide("identity_store", lambda: FaustKeyValueStore(table)))
    repo = IdentityRepository(store)
    cipher = AesGcmCipher(raw_key)
    clock = worker.clock()
    hasher = container.provide(
        "hasher",
        lambda: Argon2PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        ),
    )
    access_ttl = timedelta(seconds=settings.access_token_ttl_seconds)
    rotation = timedelta(days=settings.signing_key_rotation_days)
    keys = KeyRing(
        repo,
        cipher,
        access_ttl=access_ttl,
        rotation_period=rotation,
        key_bits=settings.rsa_key_bits,
    )
    tokens = TokenService(
        repo,
        keys,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        access_ttl=access_ttl,
        refresh_ttl=timedelta(days=settings.refresh_token_ttl_days),
        derivation_key=hmac.new(
            raw_key, b"enginedge-identity/token-derivation", hashlib.sha256
        ).digest(),
    )
    policy = IdentityPolicy(
        login_limit_per_account=settings.login_limit_per_account,
        login_limit_per_ip=settings.login_limit_per_ip,
        login_window_seconds=settings.login_window_seconds,
        oauth_state_ttl_seconds=settings.oauth_state_ttl_seconds,
        redirect_uris={
            p: f"{settings.oauth_redirect_uri_base.rstrip('/')}/{p}"
            for p in ("github", "google", "linkedin")
        },
        allowed_redirect_prefixes=tuple(
            p.strip() for p in settings.oauth_allowed_redirect_prefixes.split(",") if p.strip()
        ),
    )
    container.redis()  # readiness includes Redis (the login limiter lives there)
    providers = container.provide(
        "oauth_providers", lambda: oauth_providers(settings, worker.metrics)
    )
    sender = worker.command_sender()

    async def check_keys() -> None:
        now = clock.now()
        if not keys.needs_rotation(now):
            return
        initial = keys.active(now) is None
        command_id = (
            "keys-rotate-initial" if initial else rotation_command_id(now.timestamp(), rotation)
        )
        command = Command(
            command_id=command_id,
            command_type="keys.rotate",
            payload={"reason": "initial" if initial else "scheduled"},
        )
        await sender.send(WORKER_TYPE, command)
        log.info("asked for a signing key rotation (%s)", command_id, extra={"event": "keys"})

    worker.on_started(check_keys, name="first-key")  # the signing key on first start
    worker.every(settings.signing_key_check_seconds, check_keys, name="key-rotation")
    runtime = worker.serve(
        COMMANDS,
        {
            "repo": repo,
            "hasher": hasher,
            "cipher": cipher,
            "clock": clock,
            "keys": keys,
            "tokens": tokens,
            "policy": policy,
            "limiter": container.rate_limiter(),
            "oauth_providers": providers,
        },
    )
    install_routes(runtime, keys, clock)
    return runtime

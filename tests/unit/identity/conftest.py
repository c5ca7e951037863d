from __future__ import annotations

import itertools
import os
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from agents.identity.aesgcm_cipher import AesGcmCipher
from agents.identity.fakes import FastPasswordHasher
from agents.identity.keys import KeyRing
from agents.identity.repository import IdentityRepository
from agents.identity.tokens import TokenService
from agents.identity.user_handlers import IdentityPolicy
from enginedge_streams.handlers import CommandContext
from enginedge_streams.records import Command
from enginedge_streams.testing.clock import FixedClock
from enginedge_streams.testing.fakes import InMemoryRateLimiter
from enginedge_streams.testing.key_value_store import InMemoryKeyValueStore

_ids = itertools.count()
ACCESS_TTL = timedelta(minutes=15)


def make_ctx(command_id: str | None = None, tenant_id: str | None = None) -> CommandContext:
    cmd = Command(
        command_type="x.y", command_id=command_id or f"cmd-{next(_ids)}", tenant_id=tenant_id
    )
    return CommandContext(
        command=cmd, worker_type="identity", attempt=1, deadline=datetime(2100, 1, 1, tzinfo=UTC)
    )


@pytest.fixture(scope="session")
def rsa_keys():
    """RSA generation is slow: a small pool shared by the session."""
    from joserfc.jwk import RSAKey

    return [RSAKey.generate_key(2048) for _ in range(3)]


@pytest.fixture
def env(rsa_keys):
    store = InMemoryKeyValueStore()
    repo = IdentityRepository(store)
    cipher = AesGcmCipher(os.urandom(32))
    clock = FixedClock(datetime(2026, 3, 2, 12, tzinfo=UTC))
    keys = KeyRing(repo, cipher, access_ttl=ACCESS_TTL, rotation_period=timedelta(days=30))
    pool = list(rsa_keys)

    async def generate():
        return pool.pop(0)

    keys.generate = (
        generate  # deterministic, pre-generated keys (the real path is tested in integration)
    )
    tokens = TokenService(
        repo,
        keys,
        issuer="iss-test",
        audience="aud-test",
        access_ttl=ACCESS_TTL,
        refresh_ttl=timedelta(days=30),
        derivation_key=b"k" * 32,
    )
    deps = dict(
        repo=repo,
        hasher=FastPasswordHasher(),
        cipher=cipher,
        clock=clock,
        keys=keys,
        tokens=tokens,
        limiter=InMemoryRateLimiter(),
        policy=IdentityPolicy(
            login_limit_per_account=3,
            login_limit_per_ip=5,
            redirect_uris={"github": "https://app/cb/github", "google": "https://app/cb/google"},
            allowed_redirect_prefixes=("https://app/",),
        ),
    )
    return SimpleNamespace(store=store, **deps, deps=deps)


def call(handler, payload, env, ctx=None):
    import inspect

    names = [
        p.name for p in inspect.signature(handler).parameters.values() if p.kind is p.KEYWORD_ONLY
    ]
    kwargs = {n: env.deps[n] for n in names if n not in ("ctx", "oauth_providers")}
    if "oauth_providers" in names:
        kwargs["oauth_providers"] = env.providers
    if "ctx" in names:
        kwargs["ctx"] = ctx or make_ctx()
    return handler(payload, **kwargs)

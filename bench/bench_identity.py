"""Identity: password hashing cost and access-token verification throughput.

* argon2id with our parameters (OWASP: t=2, m=19 MiB, p=1) vs RFC 9106's second recommended
  option (t=3, m=64 MiB, p=4) — the cost per hash a login pays, and what the stronger
  profile would cost on this machine.
* token verification: our ``TokenService.verify`` (signature, iss/aud/exp/jti claims, the
  revocation denylist and the session-family check) vs a bare ``PyJWT`` decode with the same
  public key (signature + claims only) — verifications per second, one core.
* worker under load: the real identity worker (local defaults, MAX_CONCURRENCY 4) driven over
  Kafka by 16 concurrent account flows (``user.register``, ``auth.login``, ``auth.verify``,
  ``auth.refresh``, ``auth.verify`` of the new token, ``auth.revoke``), every result checked;
  its peak RSS (``VmHWM``, read before it stops) vs its memory limit, commands/s in the notes.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt as pyjwt

from agents.identity.aesgcm_cipher import AesGcmCipher
from agents.identity.argon2_password_hasher import Argon2PasswordHasher
from agents.identity.keys import KeyRing
from agents.identity.model import User
from agents.identity.repository import IdentityRepository
from agents.identity.tokens import TokenService
from bench.bench_memory import ENV
from bench.common import BenchContext, Commands, Row, median
from enginedge_streams.testing.key_value_store import InMemoryKeyValueStore

FLOWS_IN_FLIGHT = 16


def _hash_ms(hasher: Argon2PasswordHasher, n: int) -> float:
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        hasher._ph.hash(f"password-{i}")
        times.append((time.perf_counter() - t0) * 1000)
    return median(times)


async def worker_under_load(ctx: BenchContext) -> Row:
    """Account flows through the real worker over Kafka; its peak RSS vs the memory limit."""
    users = ctx.size(20, 200, 1000)
    t_start = time.perf_counter()
    worker = ctx.worker("identity", env=ENV["identity"])
    ok = Commands(await ctx.bus(), "identity")
    await ok("system.ping", {})
    run_id = uuid.uuid4().hex[:8]
    gate = asyncio.Semaphore(FLOWS_IN_FLIGHT)

    async def flow(i: int) -> None:
        email, password = f"user{i}.{run_id}@example.com", f"pw-{i}-{uuid.uuid4().hex}"
        async with gate:
            user = await ok(
                "user.register", {"email": email, "password": password, "tenant_id": "bench"}
            )
            login = await ok(
                "auth.login",
                {"email": email, "password": password, "ip": f"198.51.100.{i % 250}"},
            )
            claims = await ok("auth.verify", {"token": login["access_token"]})
            if not claims["active"] or claims["claims"]["sub"] != user["user"]["user_id"]:
                raise RuntimeError(f"identity auth.verify of a fresh token: {claims}")
            rotated = await ok("auth.refresh", {"token": login["refresh_token"]})
            if not (await ok("auth.verify", {"token": rotated["access_token"]}))["active"]:
                raise RuntimeError("identity auth.verify: a refreshed access token is inactive")
            await ok("auth.revoke", {"token": rotated["refresh_token"]})

    t0 = time.perf_counter()
    started = t0 - t_start
    await asyncio.gather(*(flow(i) for i in range(users)))
    elapsed = time.perf_counter() - t0
    commands = users * 6
    return ctx.peak_row(
        worker,
        f"identity worker: peak RSS under {users:,} account flows vs memory limit",
        f"{commands:,} commands (register, login, verify, refresh, verify, revoke; "
        f"{2 * users:,} argon2id hashes/verifications) in {elapsed:.1f}s = "
        f"{commands / elapsed:.0f}/s (worker ready in {started:.0f}s), "
        f"{FLOWS_IN_FLIGHT} flows in flight, MAX_CONCURRENCY 4",
    )


async def run(ctx: BenchContext) -> list[Row]:
    n_hash = 3 if ctx.quick else 9
    ours = Argon2PasswordHasher(time_cost=2, memory_cost_kib=19_456, parallelism=1)
    rfc = Argon2PasswordHasher(time_cost=3, memory_cost_kib=65_536, parallelism=4)
    ours_ms, rfc_ms = _hash_ms(ours, n_hash), _hash_ms(rfc, n_hash)
    stored = ours._ph.hash("pw")
    t0 = time.perf_counter()
    for _ in range(n_hash):
        assert ours._ph.verify(stored, "pw")
    verify_ms = (time.perf_counter() - t0) * 1000 / n_hash

    repo = IdentityRepository(InMemoryKeyValueStore())
    now = datetime.now(UTC)
    keys = KeyRing(
        repo,
        AesGcmCipher(os.urandom(32)),
        access_ttl=timedelta(minutes=15),
        rotation_period=timedelta(days=30),
    )
    keys.install(await keys.generate(), now)
    tokens = TokenService(
        repo,
        keys,
        issuer="iss",
        audience="aud",
        access_ttl=timedelta(minutes=15),
        refresh_ttl=timedelta(days=1),
        derivation_key=b"k" * 32,
    )
    user = User(user_id="u1", email="a@example.com", created_at=now, updated_at=now)
    issued = tokens.issue(user, now, seed="bench")
    token = issued["access_token"]
    n = 300 if ctx.quick else 3000
    t0 = time.perf_counter()
    for _ in range(n):
        tokens.verify(token, now)
    ours_rate = n / (time.perf_counter() - t0)
    public = pyjwt.PyJWK(keys.jwks(now)["keys"][0]).key
    t0 = time.perf_counter()
    for _ in range(n):
        pyjwt.decode(token, public, algorithms=["RS256"], audience="aud", issuer="iss")
    ref_rate = n / (time.perf_counter() - t0)
    under_load = await worker_under_load(ctx)
    return [
        Row(
            "argon2id hash (t=2, m=19 MiB, p=1) vs RFC 9106 option 2 (t=3, m=64 MiB, p=4)",
            ours_ms,
            rfc_ms,
            "ms/hash",
            "see notes",
            f"verify with ours: {verify_ms:.1f} ms; runs in a thread, off the event loop",
        ),
        Row(
            "access-token verification (RS256 + claims + revocation checks) vs bare PyJWT decode",
            ours_rate,
            ref_rate,
            "verifications/s",
            "higher",
            "one core, 2048-bit RSA key",
        ),
        under_load,
    ]

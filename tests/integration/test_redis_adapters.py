"""The Redis cache and rate limiter against a real Redis server."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid

import pytest

from enginedge_streams.adapters.redis_cache import RedisCache
from enginedge_streams.adapters.redis_client import RedisClient
from enginedge_streams.adapters.redis_rate_limiter import RedisRateLimiter
from enginedge_streams.errors import DependencyUnavailableError
from tests.support.stack import REDIS_URL
from tests.support.workers import free_port

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def client(stack):
    c = RedisClient(REDIS_URL)
    await c.start()
    yield c
    await c.stop()


async def test_cache_roundtrip_ttl_and_namespace(client):
    ns = f"test-{uuid.uuid4().hex}"
    cache, other = RedisCache(client, namespace=ns), RedisCache(client, namespace=ns + "x")
    await cache.set("k", b"v1", ttl_seconds=0.3)
    assert await cache.get("k") == b"v1"
    assert await other.get("k") is None
    await asyncio.sleep(0.4)
    assert await cache.get("k") is None
    await cache.set("k2", b"v2")
    await cache.delete("k2")
    assert await cache.get("k2") is None and await cache.ping()


async def test_rate_limit_is_shared_between_replicas(client):
    key = f"tool:{uuid.uuid4().hex}"
    replica_a = RedisRateLimiter(client)
    other = RedisClient(REDIS_URL)
    replica_b = RedisRateLimiter(other)
    try:
        decisions = []
        for i in range(6):
            limiter = replica_a if i % 2 == 0 else replica_b
            decisions.append(await limiter.acquire(key, limit=4, window_seconds=1.0))
        assert [d.allowed for d in decisions] == [True, True, True, True, False, False]
        assert 0 < decisions[-1].retry_after <= 1.0
        await asyncio.sleep(decisions[-1].retry_after + 0.05)
        assert (await replica_b.acquire(key, limit=4, window_seconds=1.0)).allowed
        assert not (await replica_a.acquire(key, limit=4, window_seconds=1.0, cost=9)).allowed
    finally:
        await other.stop()


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="installed by make setup")
async def test_redis_outage_is_a_retryable_error_and_recovers(tmp_path):
    port = free_port()
    argv = [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--dir",
        str(tmp_path),
    ]
    server = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    c = RedisClient(f"redis://127.0.0.1:{port}/0")
    try:
        for _ in range(50):
            if await c.ping():
                break
            await asyncio.sleep(0.1)
        cache = RedisCache(c, namespace="outage")
        await cache.set("a", b"1")
        server.kill()
        server.wait()
        with pytest.raises(DependencyUnavailableError):
            await cache.get("a")
        assert not await c.ping()
        server = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        for _ in range(50):
            if await c.ping():
                break
            await asyncio.sleep(0.1)
        await cache.set("a", b"2")
        assert await cache.get("a") == b"2"
    finally:
        await c.stop()
        server.kill()
        server.wait()

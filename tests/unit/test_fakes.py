"""The shipped fakes behave like the real adapters (the Redis ones are tested in integration)."""

from __future__ import annotations

import asyncio

from enginedge_streams.testing import InMemoryCache, InMemoryRateLimiter


async def test_in_memory_rate_limiter_window():
    limiter = InMemoryRateLimiter()
    decisions = [await limiter.acquire("k", limit=3, window_seconds=0.2) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert 0 < decisions[-1].retry_after <= 0.2
    await asyncio.sleep(0.21)
    assert (await limiter.acquire("k", limit=3, window_seconds=0.2)).allowed


async def test_in_memory_cache_ttl():
    cache = InMemoryCache()
    await cache.set("a", b"1", ttl_seconds=0.05)
    assert await cache.get("a") == b"1"
    await asyncio.sleep(0.06)
    assert await cache.get("a") is None

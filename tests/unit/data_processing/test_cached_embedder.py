"""The embedding cache/de-dup decorator over the deterministic hashing embedder
(the real MiniLM and the OpenAI adapter: tests/integration/test_data_processing_embedders.py)."""

from __future__ import annotations

import numpy as np

from agents.data_processing.cached_embedder import CachedEmbedder
from agents.data_processing.fakes import HashingEmbedder
from enginedge_streams.testing.fakes import InMemoryCache


async def test_cache_dedupes_inside_a_batch_and_hits_across_calls():
    inner = HashingEmbedder(32)
    cache = InMemoryCache()
    emb = CachedEmbedder(inner, cache, batch_size=2)
    first = await emb.embed(["a", "b", "a", "c", "b"])
    assert inner.calls == [["a", "b"], ["c"]]  # unique texts only, in batches of 2
    assert np.array_equal(first[0], first[2]) and np.array_equal(first[1], first[4])
    second = await emb.embed(["c", "a", "d"])
    assert inner.calls[-1] == ["d"] and emb.stats.cache_hits == 2
    assert np.allclose(second[1], first[0])
    keys = list(cache.data)
    assert all(k.startswith("hashing-bow:32:") and len(k.split(":")[-1]) == 64 for k in keys)


async def test_cache_failure_degrades_to_computing():
    class Broken:
        async def get(self, key):
            raise ConnectionError("redis down")

        async def set(self, key, value, *, ttl_seconds=None):
            raise ConnectionError("redis down")

    emb = CachedEmbedder(HashingEmbedder(16), Broken())
    assert (await emb.embed(["x", "y"])).shape == (2, 16)

"""An ``Embedder`` decorator: de-duplication inside a batch, a shared cache keyed by
model + text hash (Redis through the platform's ``Cache`` port), and batching of
what is left to the wrapped model. Cached vectors are float32 bytes."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agents.data_processing.ports import Embedder, Vectors
from enginedge_streams.ports.cache import Cache

log = logging.getLogger("enginedge.data_processing.embedder")


@dataclass
class EmbeddingStats:
    requested: int = 0
    unique: int = 0
    cache_hits: int = 0
    computed: int = 0


class CachedEmbedder:
    def __init__(
        self,
        inner: Embedder,
        cache: Cache | None,
        *,
        batch_size: int = 64,
        ttl_seconds: float | None = 30 * 24 * 3600,
    ) -> None:
        self.inner = inner
        self.cache = cache
        self.batch_size = batch_size
        self.ttl_seconds = ttl_seconds
        self.model_name = inner.model_name
        self.dimension = inner.dimension
        self.stats = EmbeddingStats()

    def key(self, text: str) -> str:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return f"{self.model_name}:{self.dimension}:{digest}"

    async def embed(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        positions: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            positions.setdefault(text, []).append(i)
        self.stats.requested += len(texts)
        self.stats.unique += len(positions)
        unique = list(positions)
        missing = unique
        if self.cache is not None and unique:
            try:
                cached = await asyncio.gather(*(self.cache.get(self.key(t)) for t in unique))
            except Exception as exc:  # the cache is an optimisation: never fail on it
                log.warning("embedding cache unavailable: %s", exc)
                cached = [None] * len(unique)
            missing = []
            for text, raw in zip(unique, cached, strict=True):
                vec = np.frombuffer(raw, dtype=np.float32) if raw else None
                if vec is not None and vec.shape == (self.dimension,):
                    out[positions[text]] = vec
                    self.stats.cache_hits += 1
                else:
                    missing.append(text)
        for lo in range(0, len(missing), self.batch_size):
            batch = missing[lo : lo + self.batch_size]
            vectors = await self.inner.embed(batch)
            self.stats.computed += len(batch)
            for text, vec in zip(batch, vectors, strict=True):
                out[positions[text]] = vec
            if self.cache is not None:
                await self._store(batch, vectors)
        return out

    async def _store(self, texts: list[str], vectors: Vectors) -> None:
        assert self.cache is not None
        cache = self.cache
        try:
            await asyncio.gather(
                *(
                    cache.set(
                        self.key(t), v.astype(np.float32).tobytes(), ttl_seconds=self.ttl_seconds
                    )
                    for t, v in zip(texts, vectors, strict=True)
                )
            )
        except Exception as exc:
            log.warning("embedding cache unavailable: %s", exc)

"""The ``Embedder`` port on the data processing worker's ``embedding.generate`` (over the
platform's ``BusCaller``)."""

from __future__ import annotations

import asyncio

from enginedge_streams.ports.bus_caller import BusCaller

MAX_TEXTS = 256
MAX_CHARS = 20_000


class BusEmbedder:
    model_name = "all-MiniLM-L6-v2"

    def __init__(self, workers: BusCaller, *, timeout: float = 60.0) -> None:
        self.workers = workers
        self.timeout = timeout

    async def embed(self, texts: list[str]) -> list[list[float]]:
        clean = [(t.strip() or ".")[:MAX_CHARS] for t in texts]
        batches = [clean[i : i + MAX_TEXTS] for i in range(0, len(clean), MAX_TEXTS)]
        answers = await asyncio.gather(
            *(
                self.workers.call(
                    "data_processing", "embedding.generate", {"texts": b}, timeout=self.timeout
                )
                for b in batches
            )
        )
        vectors: list[list[float]] = []
        for answer in answers:
            self.model_name = answer.get("model", self.model_name)
            vectors.extend(answer["vectors"])
        return vectors

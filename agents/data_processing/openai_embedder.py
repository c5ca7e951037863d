"""The ``Embedder`` port on OpenAI's embeddings API through the official ``openai`` SDK.

``OPENAI_BASE_URL`` points it at any server speaking the same protocol (the
tests use a local one). Batches of ``batch_size`` texts (100 by default) per
request; errors are mapped onto the platform's retryable/permanent taxonomy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from agents.data_processing.ports import Vectors
from enginedge_streams.errors import (
    DependencyUnavailableError,
    PermanentError,
    RateLimitedError,
)

DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}


class OpenaiEmbedder:
    def __init__(
        self,
        *,
        api_key: str,
        model: str = "text-embedding-3-small",
        base_url: str | None = None,
        dimensions: int | None = None,
        batch_size: int = 100,
        timeout_s: float = 30.0,
        on_call: Callable[[bool], None] | None = None,
    ) -> None:
        self.model_name = model
        self.requested_dimensions = dimensions
        self.dimension = dimensions or DIMENSIONS.get(model, 1536)
        self.batch_size = batch_size
        self._api_key = api_key
        self._base_url = base_url
        self._timeout = timeout_s
        self._client: Any = None
        self._on_call = on_call

    async def start(self) -> None:
        from openai import AsyncOpenAI

        if self._client is None:
            self._client = AsyncOpenAI(
                api_key=self._api_key,
                base_url=self._base_url,
                timeout=self._timeout,
                max_retries=0,  # the platform's error policy retries
            )

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def embed(self, texts: Sequence[str]) -> Vectors:
        if self._client is None:
            await self.start()
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for lo in range(0, len(texts), self.batch_size):
            batch = list(texts[lo : lo + self.batch_size])
            data = await self._request(batch)
            for item in data:
                vec = np.asarray(item.embedding, dtype=np.float32)
                if vec.shape != (self.dimension,):
                    raise PermanentError(
                        f"{self.model_name} returned {vec.shape[0]} dimensions, "
                        f"expected {self.dimension}",
                        code="EMBEDDING_DIMENSION_MISMATCH",
                    )
                norm = float(np.linalg.norm(vec)) or 1.0
                out[lo + int(item.index)] = vec / norm
        return out

    async def _request(self, batch: list[str]) -> list[Any]:
        import openai

        kwargs: dict[str, Any] = {"model": self.model_name, "input": batch}
        if self.requested_dimensions:
            kwargs["dimensions"] = self.requested_dimensions
        try:
            resp = await self._client.embeddings.create(encoding_format="float", **kwargs)
        except openai.RateLimitError as exc:
            self._count(error=True)
            retry_after = _retry_after(exc)
            raise RateLimitedError(f"OpenAI rate limit: {exc}", retry_after=retry_after) from None
        except (
            openai.APIConnectionError,
            openai.APITimeoutError,
            openai.InternalServerError,
        ) as exc:
            self._count(error=True)
            raise DependencyUnavailableError(f"OpenAI embeddings unavailable: {exc}") from None
        except openai.APIStatusError as exc:
            self._count(error=True)
            raise PermanentError(
                f"OpenAI embeddings refused the request ({exc.status_code}): {exc.message}",
                code="EMBEDDING_PROVIDER_ERROR",
            ) from None
        self._count(error=False)
        data = list(resp.data)
        if len(data) != len(batch):
            raise DependencyUnavailableError(
                f"OpenAI returned {len(data)} embeddings for {len(batch)} texts"
            )
        return data

    def _count(self, *, error: bool) -> None:
        if self._on_call is not None:
            self._on_call(error)


def _retry_after(exc: Any) -> float | None:
    try:
        value = exc.response.headers.get("retry-after")
        return float(value) if value else None
    except (AttributeError, ValueError):
        return None

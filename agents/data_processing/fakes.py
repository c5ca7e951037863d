"""Deterministic in-memory adapters for unit tests: a hashing embedder and a scripted OCR.
The in-memory vector store is ``agents/data_processing/memory_vector_store.py``."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from agents.data_processing.memory_vector_store import terms
from agents.data_processing.model import OcrPage
from agents.data_processing.ports import Vectors


class HashingEmbedder:
    """Bag-of-words hashed into ``dimension`` buckets, L2-normalised (shared words: close)."""

    def __init__(self, dimension: int = 64, model_name: str = "hashing-bow") -> None:
        self.dimension = dimension
        self.model_name = model_name
        self.calls: list[list[str]] = []

    def vector(self, text: str) -> Vectors:
        vec = np.zeros(self.dimension, dtype=np.float32)
        for term in terms(text) or ["<empty>"]:
            h = int.from_bytes(hashlib.blake2b(term.encode(), digest_size=8).digest(), "big")
            vec[h % self.dimension] += 1.0 if (h >> 32) & 1 else -1.0
        norm = float(np.linalg.norm(vec)) or 1.0
        result: Vectors = vec / norm
        return result

    async def embed(self, texts: Sequence[str]) -> Vectors:
        self.calls.append(list(texts))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self.vector(t) for t in texts])


class FakeOcr:
    """Returns the text registered for a page (or for any image)."""

    def __init__(self, pages: dict[int, str] | None = None, confidence: float = 91.0) -> None:
        self.pages = pages or {}
        self.confidence = confidence
        self.calls: list[tuple[str, int]] = []

    async def image(self, data: bytes, *, language: str = "eng") -> OcrPage:
        self.calls.append(("image", 1))
        text = self.pages.get(1, "")
        return OcrPage(1, text, self.confidence, len(text.split()))

    async def pdf_page(self, pdf_path: str, page: int, *, language: str = "eng") -> OcrPage:
        self.calls.append((pdf_path, page))
        text = self.pages.get(page, "")
        return OcrPage(page, text, self.confidence, len(text.split()))

"""The data processing worker's ports: embedder, vector store, OCR, document sources."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from agents.data_processing.model import (
    ChunkRecord,
    CollectionInfo,
    DocumentRecord,
    Hit,
    OcrPage,
)

Vectors = npt.NDArray[np.float32]  # shape (n, dimension), rows L2-normalised


class Embedder(Protocol):
    """Texts to unit-length vectors; one model, one dimension."""

    model_name: str
    dimension: int

    async def embed(self, texts: Sequence[str]) -> Vectors: ...


class VectorStore(Protocol):
    """Chunks with vectors, grouped in collections; a document id is unique per collection.

    ``replace_document`` consumes the chunk batches and makes the document
    visible with exactly those chunks, replacing any earlier version; if the
    batches raise, nothing of the new version stays and the old one is intact.
    """

    name: str

    async def replace_document(
        self, document: DocumentRecord, batches: AsyncIterator[list[ChunkRecord]]
    ) -> int: ...

    async def delete_document(self, collection: str, document_id: str) -> bool: ...

    async def get_document(self, collection: str, document_id: str) -> DocumentRecord | None: ...

    async def get_chunks(self, collection: str, document_id: str, limit: int) -> list[Hit]: ...

    async def search_vector(
        self, collection: str, vector: Sequence[float], top_k: int, filters: dict[str, Any]
    ) -> list[Hit]:
        """Best chunks by cosine similarity (score = cosine, -1..1)."""
        ...

    async def search_keyword(
        self, collection: str, query: str, top_k: int, filters: dict[str, Any]
    ) -> list[Hit]:
        """Best chunks by the store's full-text relevance (score > 0, higher is better)."""
        ...

    async def list_collections(self) -> list[CollectionInfo]: ...

    async def collection_stats(self, collection: str) -> CollectionInfo | None: ...


class Ocr(Protocol):
    async def image(self, data: bytes, *, language: str = "eng") -> OcrPage: ...

    async def pdf_page(self, pdf_path: str, page: int, *, language: str = "eng") -> OcrPage: ...


@dataclass(frozen=True)
class FetchedDocument:
    content: bytes
    filename: str | None
    mime_type: str | None
    origin: str  # "inline", the URL, or the path under IMPORT_DIR


class DocumentSources(Protocol):
    """Resolves a command's source (inline / URL / import path) to bytes, size-limited."""

    async def fetch(self, source: Any, *, max_bytes: int) -> FetchedDocument: ...

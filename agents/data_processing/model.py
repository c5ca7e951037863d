"""Plain data the pipeline passes between loaders, the chunker, embedders and stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Segment:
    """A piece of a document that chunks never cross: a PDF page or a heading section.

    ``offset`` is where ``text`` starts in the document's full text (segments
    joined by a blank line); ``page`` is 1-based (None where pages do not exist).
    """

    text: str
    offset: int
    page: int | None = None
    headings: tuple[str, ...] = ()
    ocr: bool = False
    ocr_confidence: float | None = None


@dataclass(frozen=True)
class Chunk:
    text: str
    start: int  # character offsets into the document's full text
    end: int
    page: int | None = None
    headings: tuple[str, ...] = ()
    tokens: int | None = None


@dataclass
class ChunkRecord:
    """A chunk as stored: its vector and everything a search result shows."""

    chunk_id: str
    document_id: str
    collection: str
    index: int
    text: str
    vector: list[float]
    start: int
    end: int
    page: int | None
    headings: list[str]
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class DocumentRecord:
    document_id: str
    collection: str
    filename: str | None
    format: str
    owner: str | None
    metadata: dict[str, Any]
    pages: int
    chunk_count: int
    ocr_pages: int
    bytes: int
    sha256: str
    embedding_model: str
    version: str  # the command id that wrote it (re-ingests replace older versions)
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "document_id": self.document_id,
            "collection": self.collection,
            "filename": self.filename,
            "format": self.format,
            "owner": self.owner,
            "metadata": self.metadata,
            "pages": self.pages,
            "chunk_count": self.chunk_count,
            "ocr_pages": self.ocr_pages,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "embedding_model": self.embedding_model,
            "version": self.version,
            "created_at": self.created_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DocumentRecord:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    document_id: str
    collection: str
    index: int
    text: str
    score: float
    page: int | None
    headings: list[str]
    start: int
    end: int
    metadata: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "chunk_id": self.chunk_id,
            "document_id": self.document_id,
            "collection": self.collection,
            "chunk_index": self.index,
            "text": self.text,
            "score": round(self.score, 6),
            "page": self.page,
            "headings": self.headings,
            "start": self.start,
            "end": self.end,
            "metadata": self.metadata,
        }


@dataclass(frozen=True)
class CollectionInfo:
    name: str
    documents: int
    chunks: int
    dimension: int | None = None
    bytes: int = 0
    ocr_pages: int = 0
    formats: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class OcrPage:
    page: int
    text: str
    confidence: float  # mean word confidence, 0..100
    words: int

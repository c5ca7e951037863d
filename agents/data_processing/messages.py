"""Payloads of the data processing worker's commands (validated; JSON Schemas in docs/schemas)."""

from __future__ import annotations

import base64
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from enginedge_streams.base64_text import Base64Text

MAX_INLINE_BASE64 = 1_400_000  # ~1 MB of document once decoded (the bus caps commands at 1 MB)
MAX_QUERY = 4_000
MAX_TEXTS = 256
MAX_TEXT = 20_000
NAME_RE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"
ID_RE = r"^[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,199}$"
Scalar = str | int | float | bool | None


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_metadata(value: dict[str, Any]) -> dict[str, Any]:
    if len(value) > 50:
        raise ValueError("at most 50 metadata keys")
    for key, item in value.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}", key):
            raise ValueError(f"metadata key {key!r}: letters, digits, _ . - (max 64)")
        if isinstance(item, str) and len(item) > 2_000:
            raise ValueError(f"metadata value of {key!r} longer than 2000 characters")
        if isinstance(item, list):
            if len(item) > 50 or not all(isinstance(v, str | int | float | bool) for v in item):
                raise ValueError(f"metadata list {key!r}: at most 50 scalars")
        elif not isinstance(item, str | int | float | bool) and item is not None:
            raise ValueError(f"metadata value of {key!r} must be a scalar or a list of scalars")
    return value


class InlineSource(_Payload):
    kind: Literal["inline"] = "inline"
    content_base64: Base64Text = Field(min_length=1, max_length=MAX_INLINE_BASE64)
    filename: str = Field(min_length=1, max_length=255)
    mime_type: str | None = Field(None, max_length=200)

    def content(self) -> bytes:
        return base64.b64decode(self.content_base64)


class UrlSource(_Payload):
    kind: Literal["url"] = "url"
    url: str = Field(min_length=8, max_length=2_048, pattern=r"^https?://")
    filename: str | None = Field(None, max_length=255)
    mime_type: str | None = Field(None, max_length=200)


class PathSource(_Payload):
    kind: Literal["path"] = "path"
    path: str = Field(min_length=1, max_length=1_024, description="Relative to IMPORT_DIR.")
    mime_type: str | None = Field(None, max_length=200)


class ChunkingOptions(_Payload):
    strategy: Literal["recursive", "token"] = Field(
        "recursive",
        description="`recursive`: sizes in characters; `token`: sizes in cl100k_base tokens.",
    )
    chunk_size: int | None = Field(None, ge=50, le=20_000)
    chunk_overlap: int | None = Field(None, ge=0, le=10_000)

    @model_validator(mode="after")
    def _overlap(self) -> ChunkingOptions:
        size, overlap = self.chunk_size, self.chunk_overlap
        if size is not None and overlap is not None and overlap >= size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        return self


class IngestDocument(_Payload):
    """`document.ingest`: load, (OCR,) chunk, embed and store one document."""

    source: InlineSource | UrlSource | PathSource = Field(discriminator="kind")
    document_id: str | None = Field(
        None, pattern=ID_RE, description="Stable id; re-ingesting the same id replaces it."
    )
    collection: str = Field("default", pattern=NAME_RE)
    chunking: ChunkingOptions = Field(default_factory=ChunkingOptions)
    metadata: dict[str, Any] = Field(default_factory=dict)
    owner: str | None = Field(None, max_length=200)
    ocr: Literal["auto", "force", "never"] = Field(
        "auto", description="auto: OCR PDF pages without a text layer; force: every page."
    )

    _meta = field_validator("metadata")(_check_metadata)


class SearchDocuments(_Payload):
    """`document.search`: vector, keyword or hybrid search in one collection."""

    query: str = Field(min_length=1, max_length=MAX_QUERY)
    collection: str = Field("default", pattern=NAME_RE)
    top_k: int = Field(5, ge=1, le=100)
    mode: Literal["vector", "keyword", "hybrid"] = "hybrid"
    alpha: float = Field(
        0.8, ge=0.0, le=1.0, description="Hybrid weight of the vector score (search.py)."
    )
    filter: dict[str, Any] = Field(
        default_factory=dict,
        description="Equality on metadata (a list means any of), plus `document_id`, `owner`.",
    )
    min_score: float | None = Field(None, ge=-1.0, le=1.0)

    _filter = field_validator("filter")(_check_metadata)


class GetDocument(_Payload):
    """`document.get`: a document's record, optionally with its chunks."""

    document_id: str = Field(pattern=ID_RE)
    collection: str = Field("default", pattern=NAME_RE)
    include_chunks: bool = False
    max_chunks: int = Field(1_000, ge=1, le=10_000)


class DeleteDocument(_Payload):
    """`document.delete`: remove a document, its chunks and vectors."""

    document_id: str = Field(pattern=ID_RE)
    collection: str = Field("default", pattern=NAME_RE)


class ListCollections(_Payload):
    """`collection.list`: every collection with document and chunk counts."""


class CollectionStats(_Payload):
    """`collection.stats`: counts, bytes, formats and OCR pages of one collection."""

    collection: str = Field("default", pattern=NAME_RE)


class GenerateEmbeddings(_Payload):
    """`embedding.generate`: texts to vectors with the configured model."""

    texts: list[str] = Field(min_length=1, max_length=MAX_TEXTS)

    @field_validator("texts")
    @classmethod
    def _texts(cls, value: list[str]) -> list[str]:
        for i, text in enumerate(value):
            if not text.strip():
                raise ValueError(f"texts[{i}] is blank")
            if len(text) > MAX_TEXT:
                raise ValueError(f"texts[{i}] is longer than {MAX_TEXT} characters")
        return value


class ProcessOcr(_Payload):
    """`ocr.process`: an image or an image-only PDF to text, with per-page confidence."""

    source: InlineSource | UrlSource | PathSource = Field(discriminator="kind")
    language: str = Field("eng", pattern=r"^[a-z_]{3,8}(\+[a-z_]{3,8}){0,4}$")
    max_pages: int = Field(50, ge=1, le=500)

"""Data processing worker settings (env vars, read once by the composition root)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from agents.data_processing.formats import FORMATS
from enginedge_streams.settings import EnvSettings


class DataProcessingSettings(EnvSettings):
    default_chunk_size: int = Field(
        1000, ge=50, le=20_000, description="Chunk size (characters) of the `recursive` strategy."
    )
    default_chunk_overlap: int = Field(
        200, ge=0, le=10_000, description="Overlap (characters) between `recursive` chunks."
    )
    token_chunk_size: int = Field(
        512, ge=16, le=8_192, description="Chunk size (cl100k_base tokens) of the `token` strategy."
    )
    token_chunk_overlap: int = Field(
        64, ge=0, le=4_096, description="Overlap (tokens) between `token` chunks."
    )
    supported_formats: str = Field(
        ",".join(FORMATS),
        description="Document formats accepted by `document.ingest` (xml, eml, epub, odt, rtf, "
        "pptx, xlsx need the `documents` extra: unstructured).",
    )
    max_document_bytes: int = Field(
        50_000_000, ge=1_000, description="Largest document accepted (bytes), from any source."
    )
    max_document_pages: int = Field(2_000, ge=1, description="Most pages of a PDF ingested.")
    max_unzipped_bytes: int = Field(
        200_000_000, ge=1_000_000, description="Largest expansion of a DOCX container (zip bombs)."
    )
    max_chunks_per_document: int = Field(
        100_000, ge=1, description="Most chunks one document may produce."
    )
    pages_per_batch: int = Field(
        4, ge=1, le=100, description="PDF pages parsed, embedded and stored per streaming step."
    )
    import_dir: Path | None = Field(
        None,
        description='Directory `document.ingest` may read `{"kind": "path"}` sources from; '
        "unset: path sources are refused.",
    )
    embedding_provider: Literal["local", "openai"] = Field(
        "local",
        description="`local` (all-MiniLM-L6-v2, ONNX, 384 dims, no key) or `openai` "
        "(needs OPENAI_API_KEY).",
    )
    embedding_batch_size: int = Field(
        32, ge=1, le=2_048, description="Texts per local model run (OpenAI: 100 per request)."
    )
    embedding_threads: int = Field(
        2, ge=1, le=64, description="onnxruntime intra-op threads of the local embedder."
    )
    embedding_cache_ttl_seconds: float = Field(
        2_592_000.0,
        ge=0,
        description="TTL of cached embeddings in Redis (model + text hash); 0 disables the cache.",
    )
    openai_api_key: SecretStr | None = Field(
        None, description="OpenAI key for EMBEDDING_PROVIDER=openai (never logged)."
    )
    openai_base_url: str | None = Field(
        None,
        description="Base URL of the OpenAI API (empty = api.openai.com); any compatible URL.",
    )
    openai_embedding_model: str = Field(
        "text-embedding-3-small",
        description="OpenAI embedding model (`text-embedding-3-small`, `...-ada-002`...).",
    )
    openai_embedding_dimensions: int | None = Field(
        None, ge=1, le=3_072, description="Shorter vectors for text-embedding-3-* (unset: full)."
    )
    vector_store: Literal["pgvector", "weaviate", "pinecone", "memory"] = Field(
        "pgvector", description="Where chunks and vectors live (`memory`: tests and demos only)."
    )
    database_url: SecretStr = Field(
        SecretStr("postgresql://postgres@127.0.0.1:5432/enginedge"),
        description="PostgreSQL with pgvector (default: the local stack's, `enginedge stack up`).",
    )
    pgvector_schema: str = Field(
        "enginedge", description="PostgreSQL schema holding the documents and chunk tables."
    )
    pgvector_pool_size: int = Field(
        8, ge=1, le=100, description="Connections in the worker's PostgreSQL pool."
    )
    pgvector_ef_search: int = Field(
        100, ge=10, le=1_000, description="HNSW `ef_search` (recall vs speed of vector search)."
    )
    weaviate_url: str = Field(
        "", description="Weaviate base URL for VECTOR_STORE=weaviate (e.g. http://weaviate:8080)."
    )
    weaviate_api_key: SecretStr | None = Field(None, description="Weaviate API key, if any.")
    weaviate_class_prefix: str = Field(
        "Enginedge",
        pattern=r"^[A-Z][A-Za-z0-9]{0,30}$",
        description="Prefix of the Weaviate classes (`<prefix>Chunk<dim>`, `<prefix>Document`).",
    )
    pinecone_api_key: SecretStr | None = Field(
        None, description="Pinecone API key for VECTOR_STORE=pinecone."
    )
    pinecone_index_name: str = Field(
        "enginedge-chunks",
        description="Pinecone index; must exist (dense, cosine, the embedding dimension).",
    )
    pinecone_index_host: str = Field(
        "", description="The index's data-plane host; empty: resolved from the index name."
    )
    pinecone_host: str = Field(
        "", description="Pinecone control-plane URL override; empty: the SDK's default."
    )
    ocr_language: str = Field(
        "eng",
        pattern=r"^[a-z_]{3,8}(\+[a-z_]{3,8}){0,4}$",
        description="Tesseract language(s) for ingestion OCR (installed traineddata, e.g. eng).",
    )
    ocr_dpi: int = Field(300, ge=72, le=600, description="Rasterisation resolution of PDF pages.")
    ocr_max_pixels: int = Field(
        40_000_000, ge=1_000_000, description="Largest image/page raster OCR'd (pixel bombs)."
    )
    ocr_timeout_seconds: float = Field(120.0, gt=0, description="Timeout of OCR for one page.")

    @field_validator("supported_formats")
    @classmethod
    def _formats(cls, value: str) -> str:
        items = [f.strip().lower() for f in value.split(",") if f.strip()]
        unknown = [f for f in items if f not in FORMATS]
        if unknown or not items:
            raise ValueError(f"unknown format(s) {unknown}; known: {', '.join(FORMATS)}")
        return ",".join(items)

    @field_validator("pgvector_schema")
    @classmethod
    def _schema(cls, value: str) -> str:
        import re

        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,50}", value):
            raise ValueError("lower-case letters, digits and _ only")
        return value

    def formats(self) -> frozenset[str]:
        return frozenset(self.supported_formats.split(","))

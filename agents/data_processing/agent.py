"""Declarations only: the data processing worker's adapters, commands and routes."""

from __future__ import annotations

from collections.abc import Callable

import faust

from agents.data_processing.cached_embedder import CachedEmbedder
from agents.data_processing.handlers import COMMANDS
from agents.data_processing.http import install_routes
from agents.data_processing.ingest import IngestConfig
from agents.data_processing.ports import Embedder, VectorStore
from agents.data_processing.safe_http_document_sources import SafeHttpDocumentSources
from agents.data_processing.settings import DataProcessingSettings
from agents.data_processing.tesseract_ocr import TesseractOcr
from enginedge_streams.container import Container
from enginedge_streams.errors import ConfigError
from enginedge_streams.runtime import WorkerRuntime
from enginedge_streams.safe_http import HttpSettings, SafeHttpClient, SafeHttpPolicy
from enginedge_streams.settings import load
from enginedge_streams.worker import Worker

WORKER_TYPE = "data_processing"


def build_embedder(
    s: DataProcessingSettings, on_call: Callable[[bool], None] | None = None
) -> Embedder:
    """The configured embedder; ``on_call(error)`` counts calls to a remote provider."""
    if s.embedding_provider == "openai":
        from agents.data_processing.openai_embedder import OpenaiEmbedder

        if s.openai_api_key is None or not s.openai_api_key.get_secret_value():
            raise ConfigError("OPENAI_API_KEY: required when EMBEDDING_PROVIDER=openai")
        return OpenaiEmbedder(
            api_key=s.openai_api_key.get_secret_value(),
            model=s.openai_embedding_model,
            base_url=s.openai_base_url,
            dimensions=s.openai_embedding_dimensions,
            on_call=on_call,
        )
    from agents.data_processing.minilm_onnx_embedder import MinilmOnnxEmbedder

    return MinilmOnnxEmbedder(batch_size=s.embedding_batch_size, threads=s.embedding_threads)


def build_store(s: DataProcessingSettings, dimension: int) -> VectorStore:
    if s.vector_store == "memory":
        from agents.data_processing.memory_vector_store import InMemoryVectorStore

        return InMemoryVectorStore()
    if s.vector_store == "weaviate":
        from agents.data_processing.weaviate_vector_store import WeaviateVectorStore

        if not s.weaviate_url:
            raise ConfigError("WEAVIATE_URL: required when VECTOR_STORE=weaviate")
        key = s.weaviate_api_key.get_secret_value() if s.weaviate_api_key else None
        return WeaviateVectorStore(
            s.weaviate_url, api_key=key, dimension=dimension, class_prefix=s.weaviate_class_prefix
        )
    if s.vector_store == "pinecone":
        from agents.data_processing.pinecone_vector_store import PineconeVectorStore

        if s.pinecone_api_key is None or not s.pinecone_api_key.get_secret_value():
            raise ConfigError("PINECONE_API_KEY: required when VECTOR_STORE=pinecone")
        return PineconeVectorStore(
            api_key=s.pinecone_api_key.get_secret_value(),
            index_name=s.pinecone_index_name,
            dimension=dimension,
            host=s.pinecone_host or None,
            index_host=s.pinecone_index_host or None,
        )
    from agents.data_processing.pgvector_vector_store import PgvectorVectorStore

    return PgvectorVectorStore(
        s.database_url.get_secret_value(),
        dimension=dimension,
        schema=s.pgvector_schema,
        pool_size=s.pgvector_pool_size,
        ef_search=s.pgvector_ef_search,
    )


def register(app: faust.App, container: Container) -> WorkerRuntime:
    s = load(DataProcessingSettings)
    worker = Worker(app, container, WORKER_TYPE)

    def count_openai(error: bool) -> None:
        worker.metrics.external_call("openai", error=error)

    model = container.manage(
        container.provide("embedding_model", lambda: build_embedder(s, count_openai))
    )
    cache = container.cache("emb") if s.embedding_cache_ttl_seconds > 0 else None
    embedder = container.provide(
        "embedder",
        lambda: CachedEmbedder(
            model,
            cache,
            batch_size=100 if s.embedding_provider == "openai" else 256,
            ttl_seconds=s.embedding_cache_ttl_seconds or None,
        ),
    )
    store = container.manage(container.provide("store", lambda: build_store(s, model.dimension)))
    ocr = container.manage(
        container.provide(
            "ocr",
            lambda: TesseractOcr(
                dpi=s.ocr_dpi, max_pixels=s.ocr_max_pixels, timeout_s=s.ocr_timeout_seconds
            ),
        )
    )
    http = SafeHttpClient(SafeHttpPolicy.from_settings(load(HttpSettings)))
    sources = container.manage(
        container.provide("sources", lambda: SafeHttpDocumentSources(http, s.import_dir))
    )
    config = IngestConfig(
        supported_formats=s.formats(),
        max_document_bytes=s.max_document_bytes,
        max_pages=s.max_document_pages,
        max_unzipped_bytes=s.max_unzipped_bytes,
        max_chunks=s.max_chunks_per_document,
        chunk_size=s.default_chunk_size,
        chunk_overlap=s.default_chunk_overlap,
        token_chunk_size=s.token_chunk_size,
        token_chunk_overlap=s.token_chunk_overlap,
        pages_per_batch=s.pages_per_batch,
        ocr_language=s.ocr_language,
    )
    container.redis()  # readiness includes Redis, as for every worker
    if hasattr(store, "ready"):
        container.add_readiness("vector_store", store.ready)

    async def model_loaded() -> tuple[bool, str]:
        loaded = getattr(model, "loaded", lambda: True)()
        return loaded, f"{model.model_name} {'loaded' if loaded else 'loading'}"

    container.add_readiness("embedding_model", model_loaded)
    runtime = worker.serve(
        COMMANDS,
        {
            "store": store,
            "embedder": embedder,
            "ocr": ocr,
            "sources": sources,
            "ingest_config": config,
        },
    )
    install_routes(runtime)
    return runtime

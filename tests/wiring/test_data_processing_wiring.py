"""The data processing worker's wiring: the real agent (Faust test_context) with fakes
swapped in through the composition root's overrides (no I/O: steps run in-process), and
configuration errors."""

from __future__ import annotations

import base64

import orjson
import pytest

from agents.data_processing.agent import build_embedder, build_store
from agents.data_processing.fakes import FakeOcr, HashingEmbedder
from agents.data_processing.memory_vector_store import InMemoryVectorStore
from agents.data_processing.settings import DataProcessingSettings
from enginedge_streams.bootstrap import bootstrap
from enginedge_streams.errors import ConfigError
from enginedge_streams.records import Command, Status
from enginedge_streams.settings import Settings, load
from enginedge_streams.testing import RecordingSink
from enginedge_streams.testing.compute_pool import InProcessComputePool
from enginedge_streams.testing.fakes import InMemoryCache
from enginedge_streams.testing.redis import FakeRedisClient
from tests.support import data_processing_samples as samples


def message(cmd: Command) -> dict:
    return {"key": cmd.command_id.encode(), "value": orjson.dumps(cmd.model_dump(mode="json"))}


async def test_ingest_and_search_through_the_real_agent(tmp_path):
    sink = RecordingSink()
    store = InMemoryVectorStore()
    cache = InMemoryCache()
    app = bootstrap(
        Settings(worker_type="data_processing", data_dir=tmp_path, topic_prefix="dpw.", max_concurrency=1),
        overrides={
            "store": store, "embedding_model": HashingEmbedder(32), "ocr": FakeOcr(),
            "redis": FakeRedisClient(), "cache:emb": cache, "result_sink": sink,
            "compute": InProcessComputePool(),  # steps inline (pickled): no child processes
        },
    )  # fmt: skip
    app.conf.store = "memory://"
    app.finalize()
    runtime = app.enginedge_runtimes["data_processing"]
    agent = next(a for a in app.agents.values() if a.name.endswith("data_processing-commands"))
    await runtime.start_components()
    raw = base64.b64encode(samples.MARKDOWN.encode()).decode()
    ingest = Command(
        command_id="dp-1",
        command_type="document.ingest",
        payload={"source": {"kind": "inline", "content_base64": raw, "filename": "h.md"},
                 "document_id": "handbook"},
    )  # fmt: skip
    search = Command(
        command_id="dp-2", command_type="document.search",
        payload={"query": "receipts finance portal", "mode": "keyword"},
    )  # fmt: skip
    bad = Command(command_id="dp-3", command_type="document.search", payload={"query": ""})
    async with agent.test_context() as ctx:
        for cmd in (ingest, search, bad):
            await ctx.put(**message(cmd))
    results = {r.command_id: r for r, _ in sink.results}
    assert results["dp-1"].status is Status.COMPLETED, results["dp-1"].error
    assert (
        results["dp-1"].result["chunk_count"] == 4 and results["dp-1"].result["store"] == "memory"
    )
    top = results["dp-2"].result["results"][0]
    assert top["document_id"] == "handbook" and "finance portal" in top["text"]
    assert results["dp-3"].error.code == "INVALID_PAYLOAD"
    assert runtime.store.get("dp-1").progress["pages_done"] == 1
    assert any(k.startswith("hashing-bow:32:") for k in cache.data)  # embeddings were cached


def test_configuration_errors_name_the_variable(monkeypatch):
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        build_embedder(DataProcessingSettings(embedding_provider="openai"))
    with pytest.raises(ConfigError, match="WEAVIATE_URL"):
        build_store(DataProcessingSettings(vector_store="weaviate"), 384)
    with pytest.raises(ConfigError, match="PINECONE_API_KEY"):
        build_store(DataProcessingSettings(vector_store="pinecone"), 384)
    monkeypatch.setenv("SUPPORTED_FORMATS", "pdf,xls")
    with pytest.raises(ConfigError, match="SUPPORTED_FORMATS"):
        load(DataProcessingSettings)
    monkeypatch.setenv("SUPPORTED_FORMATS", "PDF, md")
    assert load(DataProcessingSettings).formats() == frozenset({"pdf", "md"})


def test_default_adapters():
    s = DataProcessingSettings()
    store = build_store(s, 384)
    assert store.name == "pgvector" and store.table == "enginedge.chunks_384"
    assert build_embedder(s).dimension == 384
    assert "postgres" not in repr(s)  # DATABASE_URL is a secret

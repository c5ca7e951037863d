"""Fixtures for the data processing handlers: fakes for store/embedder/OCR, real chunker."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest

from agents.data_processing.fakes import FakeOcr, HashingEmbedder
from agents.data_processing.ingest import IngestConfig
from agents.data_processing.memory_vector_store import InMemoryVectorStore
from agents.data_processing.messages import IngestDocument
from agents.data_processing.safe_http_document_sources import SafeHttpDocumentSources
from enginedge_streams.handlers import CommandContext
from enginedge_streams.records import Command, utcnow
from enginedge_streams.safe_http import SafeHttpClient, SafeHttpPolicy
from enginedge_streams.testing.compute_pool import InProcessComputePool


def make_ctx(command_id: str | None = None) -> CommandContext:
    progress: list[dict[str, Any]] = []
    fields = {"command_id": command_id} if command_id else {}
    cmd = Command(command_type="document.ingest", payload={}, **fields)
    ctx = CommandContext(
        command=cmd,
        worker_type="data_processing",
        attempt=1,
        deadline=utcnow() + timedelta(seconds=120),
        on_progress=progress.append,
    )
    ctx.progress_log = progress  # type: ignore[attr-defined]
    return ctx


def inline(data: bytes | str, filename: str, **extra: Any) -> IngestDocument:
    raw = data.encode() if isinstance(data, str) else data
    return IngestDocument.model_validate(
        {
            "source": {
                "kind": "inline",
                "content_base64": base64.b64encode(raw).decode(),
                "filename": filename,
            },
            **extra,
        }
    )


@pytest.fixture
async def deps(tmp_path):
    sources = SafeHttpDocumentSources(
        SafeHttpClient(SafeHttpPolicy(allow_loopback=True)), tmp_path / "imports"
    )
    (tmp_path / "imports").mkdir()
    d = {
        "store": InMemoryVectorStore(),
        "embedder": HashingEmbedder(64),
        "ocr": FakeOcr({2: "The invoice total is 4217 euros"}),
        "sources": sources,
        "compute": InProcessComputePool(),
        "ingest_config": IngestConfig(max_document_bytes=1_000_000, pages_per_batch=1),
    }
    yield d
    await sources.stop()

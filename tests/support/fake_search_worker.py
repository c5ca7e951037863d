"""A test-only stand-in for the data processing worker's ``document.search`` (WORKER_PLUGINS).

It answers over the real bus with a keyword score over three fixed documents,
so the tool worker's ``document_search`` is exercised end to end without
PostgreSQL. The real worker's contract: ``{query, top_k, ...} -> {results: [...]}``.
"""

from __future__ import annotations

from typing import Any

import faust
from pydantic import BaseModel, ConfigDict, Field

from enginedge_streams.container import Container
from enginedge_streams.handlers import CommandSpec
from enginedge_streams.worker import Worker

DOCS = {
    "kafka": "Kafka partitions let consumers scale; each partition is read by one consumer.",
    "redis": "Redis is an in-memory store used for caches and rate limits.",
    "faust": "Faust tables are backed by RocksDB and a changelog topic.",
}


class Search(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1)
    top_k: int = Field(5, ge=1, le=50)
    collection: str | None = None
    mode: str | None = None
    filter: dict[str, Any] | None = None


async def handle_search(cmd: Search) -> dict[str, Any]:
    words = {w.strip(".,?").lower() for w in cmd.query.split()}
    scored = []
    for doc_id, text in DOCS.items():
        hits = len(words & {w.strip(".,;").lower() for w in text.split()})
        if hits:
            scored.append({"document_id": doc_id, "text": text, "score": float(hits)})
    scored.sort(key=lambda r: (-r["score"], r["document_id"]))
    return {"query": cmd.query, "results": scored[: cmd.top_k]}


COMMANDS = [CommandSpec("document.search", Search, handle_search, "Test search.")]


def register(app: faust.App, container: Container) -> Any:
    return Worker(app, container, "data_processing").serve(COMMANDS, {})

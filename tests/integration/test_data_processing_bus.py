"""The data processing worker end to end on the real stack: Kafka, Redis, PostgreSQL +
pgvector, Tesseract. One worker process for the module; a unique pgvector schema."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import time
import uuid

import pytest
import redis.asyncio as aioredis
from aiohttp import web

from enginedge_streams.records import Status
from tests.support import data_processing_samples as samples
from tests.support.data_processing_corpus import DOCUMENTS, QUERIES, score
from tests.support.local_http_server import ThreadedServer
from tests.support.stack import REDIS_URL, ensure_stack
from tests.support.workers import http_get, http_post

pytestmark = pytest.mark.timeout(180)
W = "data_processing"
SCHEMA = f"it_{uuid.uuid4().hex[:10]}"
PG_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/enginedge")


def inline(data: bytes | str, name: str) -> dict[str, str]:
    raw = data.encode() if isinstance(data, str) else data
    return {"kind": "inline", "content_base64": base64.b64encode(raw).decode(), "filename": name}


@pytest.fixture(scope="module")
def doc_server():
    def app() -> web.Application:
        a = web.Application()

        async def handbook(request: web.Request) -> web.Response:
            return web.Response(body=samples.MARKDOWN.encode(), content_type="text/markdown")

        a.router.add_get("/handbook.md", handbook)
        return a

    server = ThreadedServer(app).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def dp_worker(module_worker_factory, tmp_path_factory, doc_server):
    ensure_stack("postgres")
    imports = tmp_path_factory.mktemp("imports")
    (imports / "notes.md").write_text(samples.MARKDOWN)
    worker = module_worker_factory(
        W,
        env={
            "PGVECTOR_SCHEMA": SCHEMA,
            "DATABASE_URL": PG_URL,
            "IMPORT_DIR": str(imports),
            "HTTP_ALLOW_LOOPBACK": "true",
            "PAGES_PER_BATCH": "1",
            "MAX_CONCURRENCY": "4",
        },
    )
    yield worker
    worker.stop()
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


async def call(bus, command_type, payload, timeout=120):
    return await bus.call(W, command_type, payload, timeout=timeout)


async def test_labelled_queries_hit_at_1_and_mrr(dp_worker, module_bus, capsys):
    ids = {}
    results = await asyncio.gather(
        *[
            call(module_bus, "document.ingest",
                 {"source": inline(text, name), "collection": "kb", "document_id": name.split(".")[0]})
            for name, (_, text) in DOCUMENTS.items()
        ]
    )  # fmt: skip
    for (name, (fmt, _)), r in zip(DOCUMENTS.items(), results, strict=True):
        assert r.status is Status.COMPLETED, r.error
        assert r.result["format"] == fmt and r.result["chunk_count"] >= 1
        ids[name] = r.result["document_id"]
    metrics = {}
    for mode in ("hybrid", "vector", "keyword"):
        ranked = await asyncio.gather(
            *[
                call(module_bus, "document.search", {"query": q, "collection": "kb", "top_k": 5, "mode": mode})
                for q, _, _ in QUERIES
            ]
        )  # fmt: skip
        assert all(r.status is Status.COMPLETED for r in ranked)
        metrics[mode] = score([r.result["results"] for r in ranked], ids)
    with capsys.disabled():
        print(f"\nretrieval over the bus ({len(QUERIES)} labelled queries): {json.dumps(metrics)}")
    assert metrics["hybrid"]["hit@1"] >= 0.8 and metrics["hybrid"]["mrr"] >= 0.85
    assert metrics["vector"]["hit@1"] >= 0.75
    assert metrics["keyword"]["mrr"] < metrics["hybrid"]["mrr"]  # paraphrases need vectors
    stats = await call(module_bus, "collection.stats", {"collection": "kb"})
    assert stats.result["documents"] == len(DOCUMENTS) and stats.result["dimension"] == 384
    listed = await call(module_bus, "collection.list", {})
    assert "kb" in [c["collection"] for c in listed.result["collections"]]


async def test_every_format_and_ocr_over_the_bus(dp_worker, module_bus):
    cases = [
        ("plan.docx", samples.docx_bytes(), "backend engineers in Lisbon", False),
        ("report.pdf", samples.text_pdf(), "HNSW index", False),
        ("scan.pdf", samples.image_only_pdf(), "4217 euros", True),
    ]
    for name, data, needle, ocr in cases:
        r = await call(
            module_bus, "document.ingest", {"source": inline(data, name), "collection": "fmt"}
        )
        assert r.status is Status.COMPLETED, (name, r.error)
        assert r.result["ocr_used"] is ocr and r.result["store"] == "pgvector"
        s = await call(module_bus, "document.search",
                       {"query": needle, "collection": "fmt", "top_k": 1, "mode": "keyword"})  # fmt: skip
        assert needle in " ".join(s.result["results"][0]["text"].split()), (name, s.result)
        assert s.result["results"][0]["document_id"] == r.result["document_id"]
    ocr = await call(
        module_bus, "ocr.process", {"source": inline(samples.image_only_pdf(), "s.pdf")}
    )
    assert ocr.status is Status.COMPLETED
    assert ocr.result["pages"][0]["confidence"] > 80
    assert "4217 euros payable within thirty days" in " ".join(ocr.result["text"].split())


async def test_progress_is_visible_in_the_command_status(dp_worker, module_bus):
    pdf = samples.image_only_pdf([f"Page {i} of the scanned contract" for i in range(1, 5)])
    command = module_bus.command(
        "document.ingest", {"source": inline(pdf, "contract.pdf"), "collection": "prog"},
        timeout_ms=120_000,
    )  # fmt: skip
    listener = await module_bus.listen(W)
    await module_bus.send(W, command)
    seen = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status, body = await asyncio.to_thread(
            http_get, f"{dp_worker.url}/commands/{command.command_id}"
        )
        if status == 200:
            view = json.loads(body)
            seen.append((view["status"], view.get("progress", {})))
            if view["status"] in ("COMPLETED", "FAILED"):
                break
        await asyncio.sleep(0.1)
    result = await listener.wait(command.command_id, 30)
    assert result.status is Status.COMPLETED and result.result["ocr_pages"] == 4
    running = [p for s, p in seen if s == "RUNNING" and "pages_total" in p]
    assert running and all(p["pages_total"] == 4 for p in running)
    assert any(0 < p["pages_done"] < 4 for p in running), seen
    assert seen[-1][1]["pages_done"] == 4


async def test_reingest_replaces_and_delete_removes(dp_worker, module_bus):
    payload = {"source": inline("alpha bravo charlie. " * 300, "a.txt"), "collection": "life",
               "document_id": "life-doc", "chunking": {"strategy": "token", "chunk_size": 64}}  # fmt: skip
    first = await call(module_bus, "document.ingest", payload)
    assert first.status is Status.COMPLETED and first.result["chunk_count"] > 5
    payload["source"] = inline("delta echo foxtrot.", "a.txt")
    second = await call(module_bus, "document.ingest", payload)
    assert second.result["replaced"] and second.result["chunk_count"] == 1
    stats = await call(module_bus, "collection.stats", {"collection": "life"})
    assert (stats.result["documents"], stats.result["chunks"]) == (1, 1)
    got = await call(module_bus, "document.get",
                     {"document_id": "life-doc", "collection": "life", "include_chunks": True})  # fmt: skip
    assert [c["text"] for c in got.result["chunks"]] == ["delta echo foxtrot."]
    deleted = await call(
        module_bus, "document.delete", {"document_id": "life-doc", "collection": "life"}
    )
    assert deleted.result["deleted"] is True
    gone = await call(module_bus, "document.get", {"document_id": "life-doc", "collection": "life"})
    assert gone.status is Status.FAILED and gone.error.code == "NOT_FOUND"
    s = await call(
        module_bus, "document.search", {"query": "delta echo foxtrot", "collection": "life"}
    )
    assert s.result["results"] == []


async def test_bad_inputs_fail_with_specific_codes_and_write_nothing(dp_worker, module_bus):
    cases = [
        (inline(samples.encrypted_pdf(), "e.pdf"), "ENCRYPTED_DOCUMENT"),
        (inline(samples.corrupt_pdf(), "c.pdf"), "CORRUPT_DOCUMENT"),
        (inline(samples.zip_bomb_docx(30_000_000), "b.docx"), "ZIP_BOMB"),
        (inline(samples.text_image("hello"), "i.png"), "UNSUPPORTED_FORMAT"),
        ({"kind": "path", "path": "../../etc/passwd"}, "PATH_REFUSED"),
        ({"kind": "url", "url": "http://169.254.169.254/latest/meta-data/"}, "URL_REFUSED"),
    ]
    results = await asyncio.gather(
        *[
            call(module_bus, "document.ingest", {"source": src, "collection": "bad"})
            for src, _ in cases
        ]
    )
    for (_, code), r in zip(cases, results, strict=True):
        assert r.status is Status.FAILED and r.error.code == code, (code, r.error)
    invalid = await call(module_bus, "document.ingest", {"source": {"kind": "inline"}})
    assert invalid.status is Status.FAILED and invalid.error.code == "INVALID_PAYLOAD"
    stats = await call(module_bus, "collection.stats", {"collection": "bad"})
    assert stats.status is Status.FAILED and stats.error.code == "NOT_FOUND"


async def test_url_and_import_dir_sources(dp_worker, module_bus, doc_server):
    by_url = await call(module_bus, "document.ingest",
                        {"source": {"kind": "url", "url": f"{doc_server.url}/handbook.md"}, "collection": "src"})  # fmt: skip
    by_path = await call(module_bus, "document.ingest",
                         {"source": {"kind": "path", "path": "notes.md"}, "collection": "src"})  # fmt: skip
    assert by_url.status is Status.COMPLETED and by_path.status is Status.COMPLETED, by_url.error
    assert by_url.result["filename"] == "handbook.md" and by_url.result["format"] == "md"
    assert by_url.result["document_id"] == by_path.result["document_id"]  # same bytes, same id
    assert by_path.result["replaced"] or by_url.result["replaced"]


async def test_embeddings_are_cached_in_redis(dp_worker, module_bus, module_prefix):
    texts = ["a unique sentence " + uuid.uuid4().hex, "another one"]
    r = await call(module_bus, "embedding.generate", {"texts": texts})
    assert r.status is Status.COMPLETED and r.result["dimension"] == 384
    assert r.result["model"] == "all-MiniLM-L6-v2" and len(r.result["vectors"][0]) == 384
    client = aioredis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(f"{module_prefix}emb:all-MiniLM-L6-v2:384:*")]
    finally:
        await client.aclose()
    assert len(keys) >= 2
    again = await call(module_bus, "embedding.generate", {"texts": texts})
    assert again.result["vectors"] == r.result["vectors"]
    status, body = await asyncio.to_thread(
        http_post,
        f"{dp_worker.url}/search",
        json.dumps({"query": "sourdough", "collection": "kb"}).encode(),
    )
    assert status == 200 and "results" in json.loads(body)


async def test_bulk_cli_ingests_a_directory_with_progress(
    dp_worker, module_bus, module_prefix, tmp_path
):
    import os
    import subprocess
    import sys

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "handbook.md").write_text(samples.MARKDOWN)
    (tmp_path / "docs" / "redis.txt").write_text(samples.TEXT)
    (tmp_path / "docs" / "scan.pdf").write_bytes(samples.image_only_pdf())
    (tmp_path / "docs" / "broken.pdf").write_bytes(samples.corrupt_pdf())
    env = {**os.environ, "TOPIC_PREFIX": module_prefix, "COLUMNS": "120"}
    proc = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "enginedge_streams.cli.main", "ingest", str(tmp_path / "docs"),
         "--collection", "cli", "--meta", "source=cli", "--worker-url", dp_worker.url],
        capture_output=True, text=True, env=env, timeout=150,
    )  # fmt: skip
    out = proc.stdout
    assert proc.returncode == 1, proc.stderr  # one file is corrupt
    assert "3 ingested, 1 failed" in out and "4 files" in out
    assert "CORRUPT_DOCUMENT" in out and "OCR on 1 pages" in out
    assert out.count("  command ") >= 5  # 4 sent lines with their ids + the failure as it happened
    flat = " ".join(out.split())  # however the terminal wrapped it
    assert re.search(r"FAILED \S*broken\.pdf command \S+: CORRUPT_DOCUMENT", flat), out
    hits = await call(module_bus, "document.search",
                      {"query": "redis eviction", "collection": "cli", "mode": "keyword"})  # fmt: skip
    paths = {h["metadata"].get("source_path") for h in hits.result["results"]}
    assert str((tmp_path / "docs" / "redis.txt").resolve()) in paths
    (tmp_path / "imports").mkdir()
    refused = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "enginedge_streams.cli.main", "ingest", str(tmp_path / "docs"),
         "--import-dir", str(tmp_path / "imports"), "--worker-url", dp_worker.url],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert refused.returncode != 0 and "outside --import-dir" in refused.stderr
    assert "--inline" in refused.stderr and "sent " not in refused.stdout
    stats = await call(module_bus, "collection.stats", {"collection": "cli"})
    assert stats.result["documents"] == 3 and stats.result["formats"] == {
        "md": 1,
        "pdf": 1,
        "txt": 1,
    }

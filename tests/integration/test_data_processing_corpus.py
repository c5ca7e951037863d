"""Coverage on documents other people wrote: every sample of tests/support/document_corpus.py
(DOCX, PPTX, XLSX, ODT, EML, MD, HTML, XML, EPUB, CSV from pinned sdists and Debian packages)
goes through the real data processing worker (Kafka, pgvector, the MiniLM embedder).

Target (issue 19): >= 95 % COMPLETED with at least one chunk, of the files that hold text
(``has_text``, judged without our parsers: python-docx and python-pptx ship empty test files,
rightly EMPTY_DOCUMENT); every other file FAILED with a reason code, never INTERNAL_ERROR. The per-format table is printed (docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import Counter, defaultdict

import pytest

from enginedge_streams.documents.partition import available
from tests.support.document_corpus import CACHE, coverage_samples, has_text
from tests.support.stack import ensure_stack

pytestmark = [
    pytest.mark.timeout(1500),
    pytest.mark.skipif(
        not available(), reason="the documents extra (unstructured) is not installed"
    ),
]
W = "data_processing"
SCHEMA = f"itc_{uuid.uuid4().hex[:10]}"
PG_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/enginedge")


@pytest.fixture(scope="module")
def samples():
    return coverage_samples()  # fetched (pinned, sha256-checked) before the worker starts


@pytest.fixture(scope="module")
def corpus_worker(module_worker_factory, samples):
    ensure_stack("postgres")
    worker = module_worker_factory(
        W,
        env={
            "PGVECTOR_SCHEMA": SCHEMA,
            "DATABASE_URL": PG_URL,
            "IMPORT_DIR": str(CACHE),
            "MAX_CONCURRENCY": "4",
        },
    )
    yield worker
    worker.stop()
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


async def test_public_samples_of_every_format_ingest(corpus_worker, module_bus, samples, capsys):
    sem = asyncio.Semaphore(4)

    async def one(sample):
        payload = {
            "source": {"kind": "path", "path": str(sample.path.relative_to(CACHE))},
            "collection": "corpus",
            "metadata": {"corpus": sample.source},
        }
        async with sem:
            try:
                return await module_bus.call(W, "document.ingest", payload, timeout=600)
            except Exception as exc:  # a timeout: counted as a failure with its own reason
                return exc

    results = await asyncio.gather(*(one(s) for s in samples))
    per_format: dict[str, Counter[str]] = defaultdict(Counter)
    failures = []
    for sample, res in zip(samples, results, strict=True):
        fmt, textless = sample.fmt, not has_text(sample.path)
        per_format[fmt]["textless"] += textless
        if isinstance(res, Exception):
            code = f"NO_RESULT ({type(res).__name__})"
        elif res.status.value == "COMPLETED" and res.result["chunk_count"] > 0:
            per_format[fmt]["ok"] += 1
            continue
        else:
            code = res.error.code if res.error else res.status.value
        per_format[fmt]["failed"] += 1
        per_format[fmt]["rightly_empty"] += textless and code == "EMPTY_DOCUMENT"
        failures.append((sample, code, "" if isinstance(res, Exception) else res.error.message))
    ok = sum(c["ok"] for c in per_format.values())
    rightly_empty = sum(c["rightly_empty"] for c in per_format.values())
    with_text = len(samples) - rightly_empty  # files that hold text, or that we found text in
    with capsys.disabled():
        print(f"\ncoverage: {ok}/{len(samples)} files ingested with text; {ok}/{with_text} of "
              f"those holding text ({rightly_empty} hold none: EMPTY_DOCUMENT)")  # fmt: skip
        for fmt, c in sorted(per_format.items()):
            n = c["ok"] + c["failed"]
            print(f"  {fmt:5} {c['ok']}/{n} ({c['rightly_empty']} without text)")
        for sample, code, message in failures:
            print(f"  FAILED {sample.source}/{sample.path.name}: {code}: {message[:120]}")
    assert len(samples) >= 150
    assert {s.fmt for s in samples} >= {"docx", "pptx", "odt", "eml", "md", "epub", "csv"}
    assert ok >= 0.95 * with_text
    assert all(code != "INTERNAL_ERROR" for _, code, _ in failures)

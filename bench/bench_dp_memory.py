"""Data processing: the local embedder's memory after ingesting 300 real HTML files (issue 19).

Corpus: the ``.html`` files shipped by this machine's Debian packages under
/usr/share/doc (sorted by path, the first 299 of at least 1 KiB) plus the largest
one (Node.js's ``api/all.html``, 8 MB, when installed). Each file goes the
worker's way: parsed and chunked (1000 characters, 200 overlap) by
``agents.data_processing.compute``, then all its chunks embedded in one
``embed_sync`` call (batches of 32, sorted by length) — varying batch shapes,
as in production.

Two child processes, same run, same files: the embedder with onnxruntime's
defaults (CPU arena + memory patterns on: the old options) and with both off
(the new default). Reported: peak resident set (VmHWM) and resident set when
idle after the last file (VmRSS), in MiB.

Then the real data processing worker (``worker``: a Faust worker on the local
stack, PostgreSQL for the vectors) ingests the same files over the bus, two
documents in flight as ``enginedge ingest`` sends them, by path from its
``IMPORT_DIR``; its process's VmHWM, and its VmRSS 30 s after the last result,
against the issue's targets (the compute pool's children, which parse, are
reported apart).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

from bench.common import BenchContext, Row, tree_kib

DOCS = Path("/usr/share/doc")
BIG = DOCS / "nodejs/api/all.html"


def files(n: int) -> list[Path]:
    found = sorted(
        p for p in DOCS.rglob("*.html") if p.is_file() and p.stat().st_size >= 1024 and p != BIG
    )
    picked = found[: n - 1] if BIG.is_file() else found[:n]
    return picked + ([BIG] if BIG.is_file() else [])


def _kib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return float(line.split()[1])
    return 0.0


def child(arena: bool, n: int, max_chunks: int) -> dict[str, float]:
    import gc

    from agents.data_processing.compute import chunk_step, parse_flat_step
    from agents.data_processing.minilm_onnx_embedder import MinilmOnnxEmbedder

    emb = MinilmOnnxEmbedder(batch_size=32, threads=2, memory_arena=arena)
    emb.load()
    chunks_total = 0
    failed = 0
    t0 = time.perf_counter()
    for path in files(n):
        try:
            segments, _, _ = parse_flat_step("html", path.read_bytes(), 10**9)
        except Exception:
            failed += 1
            continue
        chunks = chunk_step(segments, "recursive", 1000, 200)[:max_chunks]
        if chunks:
            emb.embed_sync([c.text for c in chunks])
            chunks_total += len(chunks)
    seconds = time.perf_counter() - t0
    gc.collect()
    time.sleep(2)
    return {
        "peak_mib": _kib("VmHWM") / 1024,
        "idle_mib": _kib("VmRSS") / 1024,
        "chunks": chunks_total,
        "failed": failed,
        "seconds": seconds,
    }


def measure(arena: bool, n: int, max_chunks: int) -> dict[str, float]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.bench_dp_memory",
            "child",
            str(int(arena)),
            str(n),
            str(max_chunks),
        ],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "2"},
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _status_kib(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return float(line.split()[1])
    return 0.0


async def worker_figures(ctx: BenchContext, paths: list[Path]) -> dict[str, float]:
    """The data processing worker ingesting ``paths`` over the bus, 2 in flight."""
    import psycopg

    from tests.support.stack import ensure_stack

    ensure_stack("postgres")
    import_dir = ctx.tmp / "import"
    import_dir.mkdir(parents=True, exist_ok=True)
    names = []
    for i, path in enumerate(paths):  # flat, unique names: many are index.html
        names.append(f"{i:03d}_{path.name}")
        shutil.copyfile(path, import_dir / names[-1])
    schema = f"bench_m_{uuid.uuid4().hex[:8]}"
    worker = ctx.worker(
        "data_processing",
        env={"PGVECTOR_SCHEMA": schema, "MAX_CONCURRENCY": "2", "IMPORT_DIR": str(import_dir)},
    )
    bus = await ctx.bus()
    gate = asyncio.Semaphore(2)
    peak_between = 0.0
    failed = chunks = 0

    async def ingest(name: str) -> None:
        nonlocal failed, chunks, peak_between
        async with gate:
            r = await bus.call(
                "data_processing",
                "document.ingest",
                {"source": {"kind": "path", "path": name}, "collection": "mem"},
                timeout=3600,
            )
        if r.status.value == "COMPLETED":
            chunks += int((r.result or {}).get("chunk_count", 0))
        else:
            failed += 1
        peak_between = max(peak_between, _status_kib(worker.pid, "VmRSS"))

    t0 = time.perf_counter()
    await asyncio.gather(*(ingest(name) for name in names))
    seconds = time.perf_counter() - t0
    await asyncio.sleep(30)
    out = {
        "peak_mib": _status_kib(worker.pid, "VmHWM") / 1024,
        "idle_mib": _status_kib(worker.pid, "VmRSS") / 1024,
        "children_idle_mib": (tree_kib(worker.pid, "VmRSS") - _status_kib(worker.pid, "VmRSS"))
        / 1024,
        "max_rss_at_a_result_mib": peak_between / 1024,
        "chunks": chunks,
        "failed": failed,
        "seconds": seconds,
    }
    ctx.record_peak(worker)
    worker.stop(timeout=30)
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/enginedge", autocommit=True) as c:
        c.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    return out


async def run(ctx: BenchContext) -> list[Row]:
    n = 40 if ctx.quick else 300
    max_chunks = 200 if ctx.quick else 100_000
    old = await asyncio.to_thread(measure, True, n, max_chunks)
    new = await asyncio.to_thread(measure, False, n, max_chunks)
    note = f"{n} HTML files, {int(new['chunks'])} chunks embedded, {int(new['failed'])} failed"
    w = await worker_figures(ctx, files(n) if not ctx.quick else files(n)[:-1])
    w_note = (
        f"the worker over the bus: {int(w['chunks'])} chunks stored, {int(w['failed'])} failed, "
        f"{w['seconds']:.0f} s; compute children idle {w['children_idle_mib']:.0f} MiB"
    )
    return [
        Row(
            "data processing worker: peak RSS (VmHWM) vs the target",
            w["peak_mib"],
            1536,
            "MiB",
            "<= 1x",
            w_note,
        ),
        Row(
            "data processing worker: RSS 30 s after the last file vs the target",
            w["idle_mib"],
            600,
            "MiB",
            "<= 1x",
            f"highest RSS read at a result: {w['max_rss_at_a_result_mib']:.0f}",
        ),
        Row(
            "embedder peak RSS (VmHWM): arena+patterns off vs on",
            new["peak_mib"],
            old["peak_mib"],
            "MiB",
            "<= 1x; target <= 1536 MiB",
            note,
        ),
        Row(
            "embedder idle RSS after the last file: off vs on",
            new["idle_mib"],
            old["idle_mib"],
            "MiB",
            "<= 1x; target <= 600 MiB",
            note,
        ),
        Row(
            "time to parse, chunk and embed the files: off vs on",
            new["seconds"],
            old["seconds"],
            "s",
            "~1x",
        ),
    ]


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "child":
    print(json.dumps(child(sys.argv[2] == "1", int(sys.argv[3]), int(sys.argv[4]))))

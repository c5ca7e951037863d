"""Data processing: chunking, embeddings, ingestion and pgvector search, each against the
reference a user would otherwise pick, measured in the same run.

* chunking (3 MB of real English text from the machine's package docs, cl100k_base,
  512/64 tokens and 1000/200 characters): ours vs LangChain's
  ``RecursiveCharacterTextSplitter.from_tiktoken_encoder`` / ``RecursiveCharacterTextSplitter``
  and vs tiktoken's bare ``encode_ordinary`` of the same text;
* embeddings: ``embedding.generate`` through the worker over Kafka (unique texts, then the
  same texts again = Redis cache hits) vs the bare ONNX model in-process on the same batches;
* ingest of a 100-page PDF over the bus: wall time vs the bare steps in-process (pypdf
  text, chunking, embedding), and the worker's peak RSS vs the guide's 8 GB budget;
* search on N chunks in pgvector (HNSW, 384-dim unit vectors): p50/p99 vs an exact scan
  (index disabled), with recall@10 of HNSW against the exact answer.
"""

from __future__ import annotations

import base64
import glob
import time
import uuid
from pathlib import Path

import numpy as np

from bench.common import BenchContext, Row, percentile
from tests.support.stack import ensure_stack

PG_URL = "postgresql://postgres@127.0.0.1:5432/enginedge"


def corpus(size: int) -> str:
    """Real English prose on this machine: licenses, READMEs and docs of installed packages."""
    patterns = [
        "/usr/share/common-licenses/*",
        ".venv/lib/python3.11/site-packages/**/*.md",
        ".venv/lib/python3.11/site-packages/**/*.rst",
        ".venv/lib/python3.11/site-packages/**/LICENSE*",
    ]
    parts: list[str] = []
    total = 0
    for pattern in patterns:
        for path in sorted(glob.glob(pattern, recursive=True)):
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if len(text) < 2000:
                continue
            parts.append(text)
            total += len(text)
            if total >= size:
                return "\n\n".join(parts)[:size]
    text = "\n\n".join(parts)
    return (text * (size // max(1, len(text)) + 1))[:size]


def cpu_timed(fn, repeat: int = 3) -> float:
    """Best CPU time of ``repeat`` runs: these splitters are single-threaded, and CPU time
    is not inflated by other processes on a shared 2-core machine (wall time is)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def chunking_rows(text: str) -> list[Row]:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from agents.data_processing.chunking import _token_lengths, split_chars, split_tokens
    from enginedge_streams.tiktoken_offline import encoding

    enc = encoding("cl100k_base")
    _token_lengths(enc)  # one-time table (~0.1 s), built at worker start
    mb = len(text.encode()) / 1e6
    lc_tok = RecursiveCharacterTextSplitter.from_tiktoken_encoder(
        encoding_name="cl100k_base", chunk_size=512, chunk_overlap=64
    )
    lc_chr = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    t_ours = cpu_timed(lambda: split_tokens(enc, text, 512, 64))
    t_lc = cpu_timed(lambda: lc_tok.split_text(text), repeat=1)
    t_enc = cpu_timed(lambda: enc.encode_ordinary(text))
    c_ours = cpu_timed(lambda: split_chars(text, 1000, 200), repeat=5)
    c_lc = cpu_timed(lambda: lc_chr.split_text(text), repeat=5)
    n_ours, n_lc = len(split_tokens(enc, text, 512, 64)), len(lc_tok.split_text(text))
    return [
        Row("token chunking 512/64 vs LangChain from_tiktoken_encoder", mb / t_ours, mb / t_lc,
            "MB/s", ">= 2.5x", f"{mb:.1f} MB; {n_ours} vs {n_lc} chunks"),
        Row("token chunking 512/64 vs bare tiktoken encode", mb / t_ours, mb / t_enc, "MB/s",
            ">= 0.8x", "encode each text once, split on token offsets"),
        Row("character chunking 1000/200 vs LangChain RecursiveCharacterTextSplitter",
            mb / c_ours, mb / c_lc, "MB/s", ">= 1.0x", ""),
    ]  # fmt: skip


async def embedding_rows(ctx: BenchContext, bus, text: str, n: int) -> list[Row]:
    from agents.data_processing.minilm_onnx_embedder import MinilmOnnxEmbedder

    words = text.split()
    tag = uuid.uuid4().hex[:6]
    base = [" ".join(words[i * 12 : i * 12 + 12]) for i in range(n)]

    def batches(run: int) -> list[list[str]]:  # fresh texts per run: no cache hits
        texts = [f"{tag}-{run} {i} {t}" for i, t in enumerate(base)]
        return [texts[i : i + 64] for i in range(0, n, 64)]

    async def through_worker(run: int) -> float:
        t0 = time.perf_counter()
        for batch in batches(run):  # one batch at a time, like the bare loop
            r = await bus.call(
                "data_processing", "embedding.generate", {"texts": batch}, timeout=300
            )
            assert r.status.value == "COMPLETED", r.error
        return time.perf_counter() - t0

    bare = MinilmOnnxEmbedder(batch_size=32, threads=2)
    bare.load()

    def bare_run(run: int) -> float:
        t0 = time.perf_counter()
        for batch in batches(run):
            bare.embed_sync(batch)
        return time.perf_counter() - t0

    # Alternate bare and worker runs, best of two each: the machine is shared.
    t_bare = min(bare_run(0), float("inf"))
    cold = await through_worker(1)
    t_bare = min(t_bare, bare_run(2))
    cold = min(cold, await through_worker(3))
    warm = await through_worker(3)  # the same texts again: all Redis cache hits
    return [
        Row("embeddings through the worker (Kafka, uncached) vs bare ONNX model", n / cold,
            n / t_bare, "texts/s", ">= 0.9x", f"{n} texts, batches of 64, all-MiniLM-L6-v2 int8"),
        Row("embeddings through the worker, Redis cache hits vs bare ONNX model", n / warm,
            n / t_bare, "texts/s", "higher", "same texts again"),
    ]  # fmt: skip


async def ingest_rows(ctx: BenchContext, bus, worker, text: str, pages: int) -> list[Row]:
    from agents.data_processing.chunking import Chunker
    from agents.data_processing.minilm_onnx_embedder import MinilmOnnxEmbedder
    from agents.data_processing.model import Segment
    from agents.data_processing.pdf_loader import PdfDocument
    from tests.support.data_processing_samples import text_pdf

    page_texts = [text[i * 2500 : (i + 1) * 2500].replace("\n", " ") for i in range(pages)]
    pdf = text_pdf(page_texts)
    payload = {
        "source": {"kind": "inline", "filename": "big.pdf", "content_base64": base64.b64encode(pdf).decode()},
        "collection": "bench", "document_id": f"pdf-{uuid.uuid4().hex[:6]}",
    }  # fmt: skip
    t0 = time.perf_counter()
    r = await bus.call("data_processing", "document.ingest", payload, timeout=900)
    t_ours = time.perf_counter() - t0
    assert r.status.value == "COMPLETED", r.error
    hwm_kb = 0
    for line in Path(f"/proc/{worker.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            hwm_kb = int(line.split()[1])
    emb = MinilmOnnxEmbedder(batch_size=32, threads=2)
    emb.load()
    chunker = Chunker()
    t1 = time.perf_counter()
    doc = PdfDocument(pdf, max_pages=10_000)
    segs, off = [], 0
    for i in range(doc.pages_total):
        t = doc.page_text(i)
        segs.append(Segment(t, off, i + 1))
        off += len(t) + 2
    chunks = chunker.chunk(segs, "recursive", 1000, 200)
    emb.embed_sync([c.text for c in chunks])
    t_bare = time.perf_counter() - t1
    res = r.result
    return [
        Row(f"ingest {pages}-page PDF over the bus vs bare pypdf+chunk+embed", t_ours, t_bare, "s",
            "lower", f"{res['chunk_count']} chunks; stages {res['timings']}"),
        Row("worker peak RSS after the ingest vs the 8 GB budget", hwm_kb / 1024, 8192, "MB",
            "lower", "VmHWM of the worker process (model + pipeline)"),
    ]  # fmt: skip


async def search_rows(n: int, queries: int) -> list[Row]:
    import psycopg

    from agents.data_processing.model import ChunkRecord, DocumentRecord
    from agents.data_processing.pgvector_vector_store import PgvectorVectorStore

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    store = PgvectorVectorStore(PG_URL, dimension=384, schema=schema, pool_size=2)
    await store.start()
    rng = np.random.default_rng(7)
    centers = rng.normal(size=(200, 384)).astype(np.float32)
    try:
        t_load = time.perf_counter()
        per_doc = 1000
        for d in range(n // per_doc):
            labels = rng.integers(0, len(centers), per_doc)
            vecs = centers[labels] + 0.6 * rng.normal(size=(per_doc, 384)).astype(np.float32)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            doc = DocumentRecord(
                f"d{d}", "bench", None, "txt", None, {}, 1, 0, 0, 0, "", "x", "v", ""
            )
            recs = [ChunkRecord(f"d{d}#{i}", f"d{d}", "bench", i, f"chunk {d} {i} topic {labels[i]}",
                                vecs[i], 0, 1, None, [], {"topic": int(labels[i]) % 10})
                    for i in range(per_doc)]  # fmt: skip

            async def one_batch(recs=recs):
                yield recs

            await store.replace_document(doc, one_batch())
        load_s = time.perf_counter() - t_load
        qs = centers[rng.integers(0, len(centers), queries)] + 0.6 * rng.normal(
            size=(queries, 384)
        ).astype(np.float32)
        qs /= np.linalg.norm(qs, axis=1, keepdims=True)
        lat_hnsw, lat_exact, recall = [], [], []
        for q in qs:
            t0 = time.perf_counter()
            got = await store.search_vector("bench", q, 10, {})
            lat_hnsw.append((time.perf_counter() - t0) * 1000)
            async with await psycopg.AsyncConnection.connect(PG_URL) as conn:
                from pgvector.psycopg import register_vector_async

                await register_vector_async(conn)
                await conn.execute("SET enable_indexscan = off")
                t0 = time.perf_counter()
                cur = await conn.execute(
                    f"SELECT chunk_id FROM {schema}.chunks_384 WHERE collection = 'bench' "
                    "ORDER BY embedding <=> %s LIMIT 10", (q,)
                )  # fmt: skip
                exact = [r[0] for r in await cur.fetchall()]
                lat_exact.append((time.perf_counter() - t0) * 1000)
            recall.append(len({h.chunk_id for h in got} & set(exact)) / 10)
    finally:
        await store.stop()
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    note = (
        f"{n} chunks (loaded in {load_s:.0f}s), recall@10 {np.mean(recall):.3f}, {queries} queries"
    )
    return [
        Row("pgvector search p50 (HNSW) vs exact scan", percentile(lat_hnsw, 50),
            percentile(lat_exact, 50), "ms", "lower", note),
        Row("pgvector search p99 (HNSW) vs exact scan", percentile(lat_hnsw, 99),
            percentile(lat_exact, 99), "ms", "lower", "top_k=10, through the adapter"),
    ]  # fmt: skip


async def run(ctx: BenchContext) -> list[Row]:
    ensure_stack("postgres")
    # sizes: --quick / default (what `make bench` runs) / --full (the figures in the docs)
    texts, pages, vectors, queries = ctx.size((256, 20, 10_000, 50), (512, 30, 10_000, 100),
                                              (1024, 100, 100_000, 200))  # fmt: skip
    text = corpus(300_000 if ctx.quick else 3_000_000)
    rows = chunking_rows(text)
    schema = f"bench_w_{uuid.uuid4().hex[:8]}"
    worker = ctx.worker("data_processing", env={"PGVECTOR_SCHEMA": schema, "MAX_CONCURRENCY": "2"})
    bus = await ctx.bus()
    rows += await embedding_rows(ctx, bus, text, texts)
    rows += await ingest_rows(ctx, bus, worker, text, pages)
    ctx.record_peak(worker)
    worker.stop(timeout=30)
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    rows += await search_rows(vectors, queries)
    return rows

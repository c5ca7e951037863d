"""document.ingest: fetch -> detect -> parse page by page (OCR where needed) -> chunk ->
embed -> store, streamed in page batches with progress in the command status.

The store receives the chunks as an async stream and swaps the document in
only when the stream ends cleanly, so a corrupt page, an OCR failure or a
crash never leaves half a document searchable, and re-ingesting an id
replaces it. CPU work runs off the event loop: parsing and chunking in the compute pool (killed at
the deadline), OCR in Tesseract processes, embedding in onnxruntime's threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from agents.data_processing import compute as steps
from agents.data_processing.formats import (
    FORMATS,
    EmptyDocumentError,
    UnsupportedFormatError,
    detect_format,
    normalise,
)
from agents.data_processing.messages import IngestDocument
from agents.data_processing.model import Chunk, ChunkRecord, DocumentRecord, Segment
from agents.data_processing.pdf_loader import PdfDocument
from agents.data_processing.ports import DocumentSources, Embedder, Ocr, VectorStore
from enginedge_streams.errors import LimitExceededError
from enginedge_streams.handlers import CommandContext
from enginedge_streams.ports.compute_pool import ComputePool
from enginedge_streams.records import utcnow

EMBED_SLICE = 256  # chunks embedded and stored per step (progress granularity)


@dataclass(frozen=True)
class IngestConfig:
    supported_formats: frozenset[str] = frozenset(FORMATS)
    max_document_bytes: int = 50_000_000
    max_pages: int = 2_000
    max_unzipped_bytes: int = 200_000_000
    max_chunks: int = 100_000
    chunk_size: int = 1000
    chunk_overlap: int = 200
    token_chunk_size: int = 512
    token_chunk_overlap: int = 64
    pages_per_batch: int = 4
    ocr_language: str = "eng"


@dataclass
class Timings:
    ms: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.ms[name] = self.ms.get(name, 0.0) + (time.perf_counter() - t0) * 1000


def embed_text(chunk: Chunk) -> str:
    """What is embedded: the heading path gives a chunk its context."""
    if chunk.headings and not chunk.text.startswith(chunk.headings[-1]):
        return " > ".join(chunk.headings) + "\n" + chunk.text
    return chunk.text


async def handle_ingest(  # noqa: PLR0915 - one pipeline, read top to bottom
    cmd: IngestDocument,
    *,
    store: VectorStore,
    embedder: Embedder,
    ocr: Ocr,
    sources: DocumentSources,
    ingest_config: IngestConfig,
    ctx: CommandContext,
    compute: ComputePool,
) -> dict[str, Any]:
    cfg = ingest_config
    timings = Timings()
    started = time.perf_counter()
    ctx.progress(stage="fetching")
    with timings.stage("fetch_ms"):
        doc = await sources.fetch(cmd.source, max_bytes=cfg.max_document_bytes)
    data = doc.content
    fmt = detect_format(data, doc.filename, doc.mime_type)
    if fmt not in cfg.supported_formats:
        allowed = ", ".join(sorted(cfg.supported_formats))
        raise UnsupportedFormatError(f"format {fmt!r} is not in SUPPORTED_FORMATS ({allowed})")
    sha = await asyncio.to_thread(lambda: hashlib.sha256(data).hexdigest())
    document_id = cmd.document_id or f"doc-{sha[:24]}"
    token_mode = cmd.chunking.strategy == "token"
    size = cmd.chunking.chunk_size or (cfg.token_chunk_size if token_mode else cfg.chunk_size)
    overlap = cmd.chunking.chunk_overlap
    if overlap is None:
        overlap = cfg.token_chunk_overlap if token_mode else cfg.chunk_overlap
    overlap = min(overlap, size // 2)

    previous = await store.get_document(cmd.collection, document_id)
    pdf_path: str | None = None  # a PDF is parsed page batch by page batch from this file
    flat: list[Segment] = []
    title: str | None = None
    parse_info: dict[str, Any] = {"partitioner": "pypdf"}
    tmp: list[str] = []
    with timings.stage("parse_ms"):
        if fmt == "pdf":
            pdf_path = await asyncio.to_thread(_write_temp, data)
            tmp.append(pdf_path)
            try:
                pages_total, title = await compute.run(steps.pdf_open_step, pdf_path, cfg.max_pages)
            except BaseException:
                _remove(tmp)
                raise
        else:
            flat, title, parse_info = await compute.run(
                steps.parse_flat_step, fmt, data, cfg.max_unzipped_bytes
            )
            pages_total = 1
    base_meta = {**cmd.metadata, "format": fmt, "partitioner": parse_info["partitioner"]}
    if doc.filename:
        base_meta["filename"] = doc.filename
    owner = cmd.owner if cmd.owner is not None else ctx.user_id  # the command's user by default
    if owner is not None:
        base_meta["owner"] = owner
    if title:
        base_meta.setdefault("title", title)
    record = DocumentRecord(
        document_id=document_id,
        collection=cmd.collection,
        filename=doc.filename,
        format=fmt,
        owner=owner,
        metadata={**base_meta, "source": doc.origin if doc.origin != "inline" else "inline"},
        pages=pages_total,
        chunk_count=0,
        ocr_pages=0,
        bytes=len(data),
        sha256=sha,
        embedding_model=embedder.model_name,
        version=ctx.command_id,
        created_at=utcnow().isoformat(),
    )
    ocr_confidences: list[float] = []
    state = {"chunks": 0, "pages_done": 0}
    ctx.progress(stage="ingesting", pages_done=0, pages_total=pages_total, chunks=0)

    async def page_segments(first: int, last: int, offset: int) -> list[Segment]:
        assert pdf_path is not None
        with timings.stage("parse_ms"):
            texts = await compute.run(steps.pdf_pages_step, pdf_path, cfg.max_pages, first, last)
        segments = []
        for i, extracted in zip(range(first, last), texts, strict=True):
            text, page_no, used_ocr, conf = extracted, i + 1, False, None
            if cmd.ocr == "force" or (cmd.ocr == "auto" and PdfDocument.needs_ocr(text)):
                with timings.stage("ocr_ms"):
                    page = await ocr.pdf_page(pdf_path, page_no, language=cfg.ocr_language)
                text, used_ocr, conf = normalise(page.text), True, page.confidence
                record.ocr_pages += 1
                ocr_confidences.append(page.confidence)
            if text.strip():
                segments.append(Segment(text, offset, page_no, (), used_ocr, conf))
                offset += len(text) + 2
        return segments

    async def batches() -> AsyncIterator[list[ChunkRecord]]:
        offset = 0
        try:
            groups = (
                [
                    (i, min(i + cfg.pages_per_batch, pages_total))
                    for i in range(0, pages_total, cfg.pages_per_batch)
                ]
                if pdf_path is not None
                else [(0, 1)]
            )
            for first, last in groups:
                if pdf_path is not None:
                    segments = await page_segments(first, last, offset)
                    if segments:
                        offset = segments[-1].offset + len(segments[-1].text) + 2
                else:
                    segments = flat
                with timings.stage("chunk_ms"):
                    chunks = await compute.run(
                        steps.chunk_step, segments, cmd.chunking.strategy, size, overlap
                    )
                if chunks:
                    if state["chunks"] + len(chunks) > cfg.max_chunks:
                        raise LimitExceededError(
                            f"more than {cfg.max_chunks} chunks (MAX_CHUNKS_PER_DOCUMENT)",
                            code="TOO_MANY_CHUNKS",
                        )
                    # Slices of EMBED_SLICE chunks: progress (chunks embedded / total) for
                    # one-page formats, and bounded embedder batches for an 8 MB HTML file.
                    for lo in range(0, len(chunks), EMBED_SLICE):
                        part = chunks[lo : lo + EMBED_SLICE]
                        with timings.stage("embed_ms"):
                            vectors = await embedder.embed([embed_text(c) for c in part])
                        yield [
                            _record(record, state["chunks"] + n, c, vectors[n].tolist(), base_meta)
                            for n, c in enumerate(part)
                        ]
                        state["chunks"] += len(part)
                        if pdf_path is not None:
                            continue  # a PDF reports per page batch below
                        ctx.progress(
                            stage="embedding",
                            pages_done=state["pages_done"],
                            pages_total=pages_total,
                            chunks=state["chunks"],
                            chunks_embedded=lo + len(part),
                            chunks_total=len(chunks),
                            ocr_pages=record.ocr_pages,
                        )
                state["pages_done"] = last if pdf_path is not None else 1
                ctx.progress(
                    stage="ingesting",
                    pages_done=state["pages_done"],
                    pages_total=pages_total,
                    chunks=state["chunks"],
                    ocr_pages=record.ocr_pages,
                )
            if state["chunks"] == 0:
                raise EmptyDocumentError(
                    "no text found in the document"
                    + (" (OCR found none either)" if record.ocr_pages else ""),
                )
            record.chunk_count = state["chunks"]
        finally:
            _remove(tmp)

    store_t0 = time.perf_counter()
    try:
        count = await store.replace_document(record, batches())
    finally:
        _remove(tmp)  # also when the store never started the stream
    inner = sum(v for k, v in timings.ms.items() if k not in ("fetch_ms",))
    timings.ms["store_ms"] = max(0.0, (time.perf_counter() - store_t0) * 1000 - inner)
    timings.ms["total_ms"] = (time.perf_counter() - started) * 1000
    ctx.progress(stage="done", pages_done=pages_total, pages_total=pages_total, chunks=count)
    return {
        "document_id": document_id,
        "collection": cmd.collection,
        "version": record.version,
        "replaced": previous is not None,
        "chunk_count": count,
        "pages": pages_total,
        "format": fmt,
        "partitioner": parse_info["partitioner"],
        "elements": parse_info.get("elements"),
        "filename": doc.filename,
        "bytes": len(data),
        "sha256": sha,
        "ocr_used": record.ocr_pages > 0,
        "ocr_pages": record.ocr_pages,
        "ocr_mean_confidence": (
            round(sum(ocr_confidences) / len(ocr_confidences), 2) if ocr_confidences else None
        ),
        "chunking": {
            "strategy": cmd.chunking.strategy,
            "chunk_size": size,
            "chunk_overlap": overlap,
        },
        "embedding_model": embedder.model_name,
        "dimension": embedder.dimension,
        "store": store.name,
        "timings": {k: round(v, 1) for k, v in timings.ms.items()},
    }


def _record(
    doc: DocumentRecord, index: int, chunk: Chunk, vector: list[float], meta: dict[str, Any]
) -> ChunkRecord:
    return ChunkRecord(
        chunk_id=f"{doc.document_id}#{index}",
        document_id=doc.document_id,
        collection=doc.collection,
        index=index,
        text=chunk.text,
        vector=vector,
        start=chunk.start,
        end=chunk.end,
        page=chunk.page,
        headings=list(chunk.headings),
        metadata=dict(meta),
    )


def _remove(paths: list[str]) -> None:
    while paths:
        with contextlib.suppress(OSError):
            os.unlink(paths.pop())


def _write_temp(data: bytes) -> str:
    fd, path = tempfile.mkstemp(prefix="ingest-", suffix=".pdf")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return path

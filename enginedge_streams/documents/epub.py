"""An EPUB read as what it is: a ZIP of XHTML documents in the order its package's spine gives.

unstructured partitions EPUB through pandoc, and pandoc 3.x refuses valid books whose table of
contents points at a fragment (``No entry on path: OEBPS/about-manual.xhtml#o8``: every Debian
``live-manual-epub`` book, 10 of the 11 public EPUBs of the coverage test). This reader is the
fallback: the container names the package document, its spine orders the XHTML items, and each
is partitioned as HTML. Sizes are bounded while reading (a ZIP bomb stops at the limit).
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Iterator

from lxml import etree

#: Largest uncompressed XHTML document read from a book, and the whole book's budget.
MAX_ITEM_BYTES = 32 * 1024 * 1024
MAX_TOTAL_BYTES = 256 * 1024 * 1024
_CONTAINER = "META-INF/container.xml"
_XHTML = {"application/xhtml+xml", "text/html"}


class EpubError(ValueError):
    """Not a readable EPUB (no container, no package document, no XHTML, over the limits)."""


def spine_documents(data: bytes) -> Iterator[tuple[str, bytes]]:
    """``(path, xhtml bytes)`` of each spine item in reading order."""
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise EpubError(f"not a ZIP archive: {exc}") from None
    with book:
        opf_path = _package_path(book)
        opf = _xml(_read(book, opf_path, MAX_ITEM_BYTES), opf_path)
        base = posixpath.dirname(opf_path)
        items = {
            item.get("id"): (item.get("href") or "", item.get("media-type") or "")
            for item in opf.iter("{*}item")
        }
        budget = MAX_TOTAL_BYTES
        found = False
        for ref in opf.iter("{*}itemref"):
            href, media = items.get(ref.get("idref"), ("", ""))
            if not href or media not in _XHTML:
                continue
            path = posixpath.normpath(posixpath.join(base, href.split("#", 1)[0]))
            body = _read(book, path, min(MAX_ITEM_BYTES, budget))
            budget -= len(body)
            found = True
            yield path, body
        if not found:
            raise EpubError("the package's spine names no XHTML document")


def _package_path(book: zipfile.ZipFile) -> str:
    container = _xml(_read(book, _CONTAINER, 1024 * 1024), _CONTAINER)
    for rootfile in container.iter("{*}rootfile"):
        path = rootfile.get("full-path")
        if path:
            return str(path)
    raise EpubError("META-INF/container.xml names no package document")


def _read(book: zipfile.ZipFile, path: str, limit: int) -> bytes:
    try:
        info = book.getinfo(path)
    except KeyError:
        raise EpubError(f"missing {path}") from None
    if info.file_size > limit:
        raise EpubError(f"{path} is {info.file_size} bytes uncompressed (limit {limit})")
    with book.open(info) as member:
        body = member.read(limit + 1)  # the header may lie: stop at the limit regardless
    if len(body) > limit:
        raise EpubError(f"{path} exceeds {limit} bytes uncompressed")
    return body


def _xml(body: bytes, path: str) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True)
    root = etree.fromstring(body, parser)
    if root is None:
        raise EpubError(f"{path} is not XML")
    return root

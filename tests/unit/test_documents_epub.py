"""The EPUB fallback reader: spine order, fragments, limits, and clear errors."""

from __future__ import annotations

import io
import zipfile

import pytest

from enginedge_streams.documents import epub
from enginedge_streams.documents.epub import EpubError, spine_documents

CONTAINER = """<?xml version='1.0'?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="OEBPS/content.opf"
    media-type="application/oebps-package+xml"/></rootfiles>
</container>"""

OPF = """<?xml version='1.0'?>
<package xmlns="http://www.idpf.org/2007/opf" version="2.0">
  <manifest>
    <item id="css" href="css/a.css" media-type="text/css"/>
    <item id="b" href="b.xhtml" media-type="application/xhtml+xml"/>
    <item id="a" href="text/a.xhtml#intro" media-type="application/xhtml+xml"/>
  </manifest>
  <spine><itemref idref="a"/><itemref idref="css"/><itemref idref="b"/></spine>
</package>"""


def book(files: dict[str, str | bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in files.items():
            z.writestr(name, body)
    return out.getvalue()


def page(text: str) -> str:
    return f"<html xmlns='http://www.w3.org/1999/xhtml'><body><p>{text}</p></body></html>"


def test_spine_order_with_fragments_and_relative_paths():
    data = book(
        {
            "META-INF/container.xml": CONTAINER,
            "OEBPS/content.opf": OPF,
            "OEBPS/b.xhtml": page("second"),
            "OEBPS/text/a.xhtml": page("first"),
            "OEBPS/css/a.css": "p {}",
        }
    )
    docs = list(spine_documents(data))
    assert [path for path, _ in docs] == ["OEBPS/text/a.xhtml", "OEBPS/b.xhtml"]
    assert b"first" in docs[0][1] and b"second" in docs[1][1]


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({}, "missing META-INF/container.xml"),
        ({"META-INF/container.xml": CONTAINER}, "missing OEBPS/content.opf"),
        (
            {
                "META-INF/container.xml": CONTAINER,
                "OEBPS/content.opf": OPF.replace("application/xhtml+xml", "image/png"),
            },
            "names no XHTML",
        ),
    ],
)
def test_unreadable_books_say_why(files, reason):
    with pytest.raises(EpubError, match=reason):
        list(spine_documents(book(files)))


def test_not_a_zip():
    with pytest.raises(EpubError, match="not a ZIP"):
        list(spine_documents(b"%PDF-1.7"))


def test_an_item_over_the_limit_is_refused_before_it_is_inflated(monkeypatch):
    monkeypatch.setattr(epub, "MAX_ITEM_BYTES", 1000)
    data = book(
        {
            "META-INF/container.xml": CONTAINER,
            "OEBPS/content.opf": OPF,
            "OEBPS/text/a.xhtml": page("x" * 5000),  # compresses to a few bytes
            "OEBPS/b.xhtml": page("ok"),
        }
    )
    with pytest.raises(EpubError, match="limit 1000"):
        list(spine_documents(data))


def test_the_whole_book_has_a_budget(monkeypatch):
    monkeypatch.setattr(epub, "MAX_TOTAL_BYTES", 700)
    data = book(
        {
            "META-INF/container.xml": CONTAINER,
            "OEBPS/content.opf": OPF,
            "OEBPS/text/a.xhtml": page("a" * 500),
            "OEBPS/b.xhtml": page("b" * 500),
        }
    )
    with pytest.raises(EpubError, match=r"exceeds|limit"):
        list(spine_documents(data))

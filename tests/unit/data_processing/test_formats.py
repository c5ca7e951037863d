"""Format detection, loaders for every format, and refusals with specific codes."""

from __future__ import annotations

import io
import zipfile

import pytest

from agents.data_processing.docx_loader import load_docx
from agents.data_processing.formats import (
    CorruptDocumentError,
    EncryptedDocumentError,
    UnsupportedFormatError,
    ZipBombError,
    check_zip,
    decode_text,
    detect_format,
)
from agents.data_processing.html_loader import load_html
from agents.data_processing.markdown_loader import load_markdown
from agents.data_processing.pdf_loader import PdfDocument
from agents.data_processing.sections import full_text
from enginedge_streams.errors import LimitExceededError
from tests.support import data_processing_samples as samples


def _zip(entries: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in entries.items():
            zf.writestr(name, text)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "mime", "expected"),
    [
        (b"%PDF-1.7\n...", "x.bin", None, "pdf"),
        (samples.docx_bytes(), "report", None, "docx"),
        (b"<!DOCTYPE html><html><body>x</body></html>", None, None, "html"),
        (b"# Title\n\ntext", "notes.md", None, "md"),
        (b"# Title", None, "text/markdown; charset=utf-8", "md"),
        (b"plain words", "a.txt", None, "txt"),
        (b"plain words", None, None, "txt"),
        (b"<p>hi</p>", "page.htm", None, "html"),
        (b"a,b\n1,2\n", "t.csv", None, "csv"),
        (b"{\\rtf1\\ansi hello}", None, None, "rtf"),
        (b"<?xml version='1.0'?><root><a>x</a></root>", None, None, "xml"),
        (b"<?xml version='1.0'?>\n<!DOCTYPE html><html></html>", None, None, "html"),
        (b"<root/>", "data.xml", None, "xml"),
        (
            b"Received: from a\nFrom: x@example.org\nTo: y@example.org\nSubject: hi\n\nbody",
            None,
            None,
            "eml",
        ),
        (b"From: me\n\njust a note", None, None, "txt"),  # one header is not a mail
        (
            _zip({"mimetype": "application/epub+zip", "META-INF/container.xml": "<c/>"}),
            None,
            None,
            "epub",
        ),
        (
            _zip({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<c/>"}),
            "x.odt",
            None,
            "odt",
        ),
        (_zip({"ppt/presentation.xml": "<p/>"}), "deck", None, "pptx"),
        (
            _zip({"xl/workbook.xml": "<w/>"}),
            None,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    ],
)
def test_detect_format(data, name, mime, expected):
    assert detect_format(data, name, mime) == expected


@pytest.mark.parametrize(
    ("data", "name", "error"),
    [
        (samples.text_image("hello"), "scan.png", UnsupportedFormatError),
        (b"PK\x03\x04" + b"\x00" * 40, "archive.zip", UnsupportedFormatError),
        (b"\x00\x01\x02binary", "blob.bin", UnsupportedFormatError),
        (b"a,b", "sheet.xlsx", CorruptDocumentError),  # declared xlsx, not a ZIP
        (b"a,b", "sheet.ods", UnsupportedFormatError),
        (b"not a pdf at all", "fake.pdf", CorruptDocumentError),
    ],
)
def test_refused_types(data, name, error):
    with pytest.raises(error):
        detect_format(data, name, None)


def test_pdf_text_per_page_and_title():
    pdf = PdfDocument(samples.text_pdf(), max_pages=10)
    assert pdf.pages_total == 3 and pdf.title == "Sample report"
    assert "ordered log" in pdf.page_text(0).replace("\n", " ")
    assert "HNSW index" in pdf.page_text(1).replace("\n", " ")
    assert not pdf.needs_ocr(pdf.page_text(2))


def test_image_only_pdf_page_needs_ocr():
    pdf = PdfDocument(samples.image_only_pdf(), max_pages=10)
    assert pdf.pages_total == 1 and pdf.needs_ocr(pdf.page_text(0))


def test_encrypted_corrupt_and_too_long_pdfs():
    with pytest.raises(EncryptedDocumentError):
        PdfDocument(samples.encrypted_pdf(), max_pages=10)
    with pytest.raises(CorruptDocumentError):
        PdfDocument(samples.corrupt_pdf(), max_pages=10)
    with pytest.raises(LimitExceededError) as info:
        PdfDocument(samples.text_pdf(), max_pages=2)
    assert info.value.code == "TOO_MANY_PAGES"


def test_docx_headings_lists_and_tables():
    segments, title = load_docx(samples.docx_bytes())
    assert title == "Quarterly plan"
    by_heading = {s.headings[-1]: s.text for s in segments}
    assert "- We will hire three backend engineers in Lisbon." in by_heading["Hiring"]
    assert "Office move | 12000" in by_heading["Budget"]
    text = full_text(segments)
    for s in segments:
        assert text[s.offset : s.offset + len(s.text)] == s.text


def test_docx_zip_bomb_and_corrupt_container():
    with pytest.raises(ZipBombError):
        check_zip(samples.zip_bomb_docx(30_000_000), max_total=200_000_000)
    with pytest.raises(ZipBombError):
        check_zip(samples.docx_bytes(), max_total=1_000)
    with pytest.raises(CorruptDocumentError):
        check_zip(b"PK\x03\x04 truncated", max_total=10**9)
    with pytest.raises(CorruptDocumentError):
        load_docx(b"PK\x03\x04 truncated")


def test_html_boilerplate_is_stripped_and_headings_kept():
    segments, title = load_html(samples.HTML.encode())
    text = full_text(segments)
    assert title == "Deploy guide"
    assert "helm rollback" in text and "- Check the release history" in text
    for junk in ("Pricing", "cookies", "Copyright", "window.track", "font-family"):
        assert junk not in text
    assert segments[-1].headings == ("Deploying the service", "Rollback")


def test_markdown_sections_follow_heading_levels_not_code_comments():
    segments = load_markdown(samples.MARKDOWN)
    heads = [s.headings for s in segments]
    assert heads == [
        ("Onboarding handbook",),
        ("Onboarding handbook", "Laptop setup"),
        ("Onboarding handbook", "Expenses"),
        ("Onboarding handbook", "Expenses", "Travel"),
    ]
    assert "# this is a comment" in segments[1].text
    for s in segments:
        assert samples.MARKDOWN[s.offset : s.offset + len(s.text)] == s.text


def test_text_decoding():
    assert decode_text("héllo".encode()) == "héllo"
    assert decode_text(b"\xef\xbb\xbfbom") == "bom"
    assert decode_text("hé".encode("cp1252")) == "hé"
    assert decode_text("wide".encode("utf-16")) == "wide"

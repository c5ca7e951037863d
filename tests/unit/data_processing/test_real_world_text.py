"""Declared encodings reach the HTML parser, text is NFKC-folded, and a library crash is a reason."""

from __future__ import annotations

import io
import zipfile

import pytest

from agents.data_processing.compute import parse_flat_step
from agents.data_processing.formats import CorruptDocumentError, normalise
from agents.data_processing.html_loader import load_html
from agents.data_processing.sections import full_text
from enginedge_streams.documents import declared_encoding, decode_bytes, fold

XHTML = """<?xml version="1.0" encoding="{enc}"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" "http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Café guide</title></head>
<body><h1>Überblick</h1><p>Grüße aus Köln - naïve façade.</p></body></html>
"""


@pytest.mark.parametrize("enc", ["UTF-8", "ISO-8859-1", "windows-1252"])
def test_xhtml_with_an_encoding_declaration_parses_in_its_own_encoding(enc):
    data = XHTML.format(enc=enc).encode(enc)
    segments, title = load_html(data)
    assert title == "Café guide"
    assert segments[0].headings == ("Überblick",)
    assert "Grüße aus Köln - naïve façade." in full_text(segments)


def test_meta_charset_and_undeclared_utf8_html():
    latin = '<html><head><meta charset="iso-8859-1"></head><body><p>déjà vu</p></body></html>'
    assert "déjà vu" in full_text(load_html(latin.encode("latin-1"))[0])
    plain = "<html><body><p>déjà vu ✓</p></body></html>"  # no declaration: UTF-8, not Latin-1
    assert "déjà vu ✓" in full_text(load_html(plain.encode())[0])
    # a str (already decoded) that still carries the declaration is accepted too
    assert "Grüße" in full_text(load_html(XHTML.format(enc="UTF-8"))[0])


def test_declared_encoding_and_decoding():
    assert declared_encoding(b'<?xml version="1.0" encoding="ISO-8859-1"?><a/>') == "iso8859-1"
    assert (
        declared_encoding(b'<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">')
        == "koi8-r"
    )
    assert declared_encoding(b"\xef\xbb\xbfhello") == "utf-8"
    assert declared_encoding(b'<?xml encoding="no-such-codec"?>') is None
    assert decode_bytes(b"\xef\xbb\xbfcaf\xc3\xa9") == ("café", "utf-8")
    assert decode_bytes(b"caf\xe9") == ("café", "cp1252")


def test_ligatures_and_compatibility_characters_are_folded():
    pdf_text = (
        "The \ufb01eld is di\ufb00erent from the \ufb02ow;\u00a0e\ufb03cient co\u00adop\u200b."
    )
    assert fold(pdf_text) == "The field is different from the flow; efficient coop."
    assert normalise("ﬁrst\r\nline") == "first\nline"
    segments, _ = load_html("<h2>Deﬁnitions</h2><p>the ﬁeld</p>".encode())
    assert segments[0].headings == ("Definitions",)
    assert "the field" in segments[0].text


def test_a_docx_the_library_cannot_read_is_a_corrupt_document():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:  # a valid ZIP with a DOCX name but a broken part
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document")
    with pytest.raises(CorruptDocumentError) as err:
        parse_flat_step("docx", buf.getvalue(), 10_000_000)
    assert err.value.code == "CORRUPT_DOCUMENT"

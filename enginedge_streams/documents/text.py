"""Encodings and Unicode normalisation of extracted document text.

``declared_encoding`` reads what a file says about itself (byte-order mark,
``<?xml ... encoding=...?>``, ``<meta charset>`` / ``http-equiv``), so HTML
and XHTML bytes go to lxml with their own encoding instead of being decoded
here first (lxml refuses a ``str`` that carries an encoding declaration).

``fold`` applies NFKC: ligatures (ﬁ ﬀ ﬂ ﬃ), full-width letters, non-breaking
and other compatibility spaces become their plain forms, so a keyword search
for ``field`` finds text a PDF stored as ``ﬁeld`` and the embedding tokenizer
does not see ``[UNK]``. It also drops soft hyphens and zero-width characters.
The result stays ordinary readable text: it is what chunks return.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_META = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _known(name: bytes | str) -> str | None:
    text = name.decode("ascii", "ignore") if isinstance(name, bytes) else name
    try:
        return codecs.lookup(text).name
    except LookupError:
        return None


def declared_encoding(data: bytes, *, markup: bool = True) -> str | None:
    """The encoding ``data`` declares (BOM, then XML declaration / meta charset), if any."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    if not markup:
        return None
    head = data[:4096]
    for pattern in (_XML_DECL, _META):
        m = pattern.search(head)
        if m:
            found = _known(m.group(1))
            if found is not None:
                return found
    return None


def decode_bytes(data: bytes, *, markup: bool = False) -> tuple[str, str]:
    """(text, encoding used): the declared encoding, else UTF-8, else Windows-1252."""
    enc = declared_encoding(data, markup=markup)
    if enc is not None:
        if enc.startswith("utf-8"):
            data = data.removeprefix(codecs.BOM_UTF8)
        return data.decode(enc, errors="replace"), enc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252"


def sniff_encoding(data: bytes) -> str:
    """The encoding to hand a markup parser with these bytes (never guesses Latin-1 for UTF-8)."""
    enc = declared_encoding(data, markup=True)
    if enc is not None:
        return enc
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def fold(text: str) -> str:
    """NFKC-normalised text without soft hyphens and zero-width characters."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", text).translate(_INVISIBLE)

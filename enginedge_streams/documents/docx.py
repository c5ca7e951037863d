"""DOCX: open with size and encryption checks, and walk the body in order.

Tables are read from the XML (rows of ``w:tc`` cells): python-docx's ``table.columns`` needs a
``<w:tblGrid>``, which valid files written by other tools leave out. Every failure is a
per-file reason code (``CORRUPT_DOCUMENT``, ``ENCRYPTED_DOCUMENT``, ``DOCUMENT_TOO_LARGE``).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from enginedge_streams.documents import errors
from enginedge_streams.errors import PermanentError

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an encrypted OOXML file is an OLE container


def open_docx(data: bytes, *, max_unzipped_bytes: int | None = None) -> Any:
    """The python-docx ``Document`` of ``data``, or a per-file failure."""
    if data[:8] == OLE_MAGIC:
        raise errors.encrypted("DOCX")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            total = sum(i.file_size for i in zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise errors.corrupt("DOCX", exc) from None
    if max_unzipped_bytes is not None and total > max_unzipped_bytes:
        raise errors.too_large("DOCX")
    import docx

    try:
        return docx.Document(io.BytesIO(data))
    except PermanentError:
        raise
    except Exception as exc:  # PackageNotFoundError, KeyError, lxml's XMLSyntaxError...
        raise errors.corrupt("DOCX", exc) from None


@dataclass
class Table:
    """Rows of cells; each cell a list of python-docx ``Paragraph``s."""

    rows: list[list[list[Any]]]

    @property
    def columns(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    def cell_text(self, row: int, column: int) -> str:
        cells = self.rows[row]
        if column >= len(cells):
            return ""
        return " ".join(" ".join(p.text.split()) for p in cells[column] if p.text.strip())


def body(document: Any) -> Iterator[Any]:
    """Paragraphs (python-docx ``Paragraph``) and :class:`Table` s in body order."""
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    for child in document.element.body.iterchildren():
        if child.tag == qn("w:p"):
            yield Paragraph(child, document)
        elif child.tag == qn("w:tbl"):
            rows = [
                [
                    [Paragraph(p, document) for p in tc.iter(qn("w:p"))]
                    for tc in tr.iterchildren(qn("w:tc"))
                ]
                for tr in child.iterchildren(qn("w:tr"))
            ]
            yield Table(rows)


def is_list_item(paragraph: Any) -> bool:
    """A numbered/bulleted paragraph (``w:numPr``) or one in a list style."""
    from docx.oxml.ns import qn

    ppr = paragraph._p.pPr
    style = paragraph.style.name if paragraph.style is not None else ""
    return (ppr is not None and ppr.find(qn("w:numPr")) is not None) or "list" in (
        style or ""
    ).lower()


def header_paragraphs(document: Any) -> list[str]:
    """Non-empty text of the section headers (contact details often sit there)."""
    out: list[str] = []
    for section in document.sections:
        for para in section.header.paragraphs:
            if para.text.strip():
                out.append(para.text.strip())
    return out

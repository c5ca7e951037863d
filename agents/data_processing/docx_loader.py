"""DOCX (python-docx): paragraphs and tables in body order; Heading/Title styles start
sections, list styles become "- " items, table rows become "a | b | c" lines."""

from __future__ import annotations

import io
import re
from typing import Any

from agents.data_processing.formats import CorruptDocumentError, EncryptedDocumentError
from agents.data_processing.model import Segment
from agents.data_processing.sections import SectionBuilder

_HEADING = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)


def _level(style_name: str) -> int | None:
    if style_name.lower() == "title":
        return 1
    m = _HEADING.match(style_name.strip())
    return int(m.group(1)) if m else None


def load_docx(data: bytes) -> tuple[list[Segment], str | None]:  # noqa: PLR0912
    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # OLE container: an encrypted OOXML file
        raise EncryptedDocumentError("the DOCX is password-protected")
    try:
        doc: Any = Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise CorruptDocumentError(f"unreadable DOCX: {exc}") from None
    except Exception as exc:  # lxml XMLSyntaxError and friends
        raise CorruptDocumentError(f"unreadable DOCX: {type(exc).__name__}: {exc}") from None
    title = (doc.core_properties.title or "").strip() or None
    out = SectionBuilder()
    for item in doc.iter_inner_content():
        if isinstance(item, Paragraph):
            text = item.text.strip()
            if not text:
                continue
            style = item.style.name if item.style is not None else ""
            level = _level(style or "")
            if level is not None:
                out.heading(level, text)
                title = title or (text if level == 1 else None)
            elif "list" in (style or "").lower() or (
                item._p.pPr is not None and (item._p.pPr.numPr is not None)
            ):
                out.block(f"- {text}")
            else:
                out.block(text)
        elif isinstance(item, Table):
            rows = []
            for row in item.rows:
                cells: list[str] = []
                for cell in row.cells:
                    value = " ".join(cell.text.split())
                    if not cells or cells[-1] != value:  # merged cells repeat
                        cells.append(value)
                rows.append(" | ".join(cells))
            out.block("\n".join(rows))
    return out.finish(), title

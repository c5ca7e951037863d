"""DOCX through the platform's document layer: paragraphs and tables in body order;
Heading/Title styles start sections, list items become "- " items, table rows become
"a | b | c" lines (tables without a ``<w:tblGrid>`` included)."""

from __future__ import annotations

import re

from agents.data_processing.model import Segment
from agents.data_processing.pdf_loader import loader_error
from agents.data_processing.sections import SectionBuilder
from enginedge_streams.documents.docx import Table, body, is_list_item, open_docx
from enginedge_streams.errors import PermanentError

_HEADING = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)


def _level(style_name: str) -> int | None:
    if style_name.lower() == "title":
        return 1
    m = _HEADING.match(style_name.strip())
    return int(m.group(1)) if m else None


def load_docx(data: bytes) -> tuple[list[Segment], str | None]:
    try:
        doc = open_docx(data)
    except PermanentError as exc:
        raise loader_error(exc) from None
    title = (doc.core_properties.title or "").strip() or None
    out = SectionBuilder()
    for item in body(doc):
        if isinstance(item, Table):
            rows = []
            for r in range(len(item.rows)):
                cells: list[str] = []
                for c in range(len(item.rows[r])):
                    value = item.cell_text(r, c)
                    if not cells or cells[-1] != value:  # merged cells repeat
                        cells.append(value)
                rows.append(" | ".join(cells))
            out.block("\n".join(rows))
            continue
        text = item.text.strip()
        if not text:
            continue
        style = item.style.name if item.style is not None else ""
        level = _level(style or "")
        if level is not None:
            out.heading(level, text)
            title = title or (text if level == 1 else None)
        elif is_list_item(item):
            out.block(f"- {text}")
        else:
            out.block(text)
    return out.finish(), title

# ruff: noqa: RUF001  (resumes and postings really use en/em dashes and curly quotes)
"""Resume files -> text lines with layout hints, and the ATS layout flags.

PDF and DOCX through the platform's document layer (``enginedge_streams.documents``:
pdfplumber words with positions, sizes and fonts; python-docx styles, runs, tables read
from the XML, headers); plain text as is. A sidebar PDF is read column by column; a
right-aligned date stays on its job's line as its own cell.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from typing import Any

from enginedge_streams.documents.docx import Table, body, header_paragraphs, is_list_item, open_docx
from enginedge_streams.documents.errors import CORRUPT
from enginedge_streams.documents.pdf import layout_lines as pdf_layout
from enginedge_streams.documents.text import decode_bytes, fold
from enginedge_streams.errors import PermanentError

#: Bullet glyphs, including Word's Symbol/Wingdings private-use code points (U+F0B7 "",
#: U+F0A7, U+F076 "❖" in Wingdings, U+F0D8, U+F0FC) that its PDFs and DOCX runs carry.
BULLET_CHARS = "•●▪■◦‣∙·-–—*>»❖➢►▶✓✔◆◇○\uf0b7\uf0a7\uf076\uf0d8\uf0fc\uf0a8\uf06c\uf06e"


@dataclass
class Line:
    text: str
    size: float | None = None  # font size (pt), when known
    bold: bool = False
    bullet: bool = False
    style: str = ""
    x0: float | None = None  # left edge (pt), PDF only
    cells: list[str] = field(default_factory=list)  # parts a wide gap separates

    def parts(self) -> list[str]:
        return self.cells if len(self.cells) > 1 else [self.text]


@dataclass
class Extracted:
    format: str
    lines: list[Line]
    pages: int = 1
    layout: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


@dataclass(frozen=True)
class LayoutLimits:
    tiny_font_pt: float = 8.0
    tiny_font_share: float = 0.05  # share of characters below tiny_font_pt that flags the resume
    max_pages: int = 10
    max_unzipped_bytes: int = 50_000_000


def sniff(data: bytes, filename: str | None, mime: str | None) -> str:
    name = (filename or "").lower()
    if data[:5] == b"%PDF-" or name.endswith(".pdf") or mime == "application/pdf":
        return "pdf"
    if data[:2] == b"PK" or name.endswith(".docx") or (mime or "").endswith("wordprocessingml"):
        return "docx"
    return "text"


def extract(data: bytes, filename: str | None, mime: str | None, limits: LayoutLimits) -> Extracted:
    """Any file the PDF/DOCX libraries cannot read is a ``CORRUPT_DOCUMENT`` failure
    (a per-file reason), never an internal error with the library's raw exception."""
    kind = sniff(data, filename, mime)
    if kind in ("pdf", "docx"):
        try:
            return extract_pdf(data, limits) if kind == "pdf" else extract_docx(data, limits)
        except PermanentError:
            raise
        except Exception as exc:  # the libraries raise anything on malformed files
            raise PermanentError(
                f"not a readable {kind.upper()} file ({type(exc).__name__})", code=CORRUPT
            ) from None
    return extract_text(fold(decode_bytes(data)[0]))


def extract_text(text: str) -> Extracted:
    lines = [_line(raw) for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return Extracted(
        "text",
        lines,
        layout={"multi_column": False, "tiny_fonts": False, "images_instead_of_text": False},
    )


CID_BULLET = re.compile(r"^\(cid:\d+\)\s*")  # a bullet glyph the PDF font does not map


def _line(raw: str, size: float | None = None, bold: bool = False, style: str = "") -> Line:
    text = " ".join(raw.split())
    bullet = (
        bool(text)
        and text[0] in BULLET_CHARS
        and (len(text) == 1 or text[1] == " " or text[0] not in "-–—*>»·")
    )
    if bullet:
        text = text[1:].strip()
    elif CID_BULLET.match(text):
        bullet = True
        text = CID_BULLET.sub("", text)
    return Line(text, size, bold, bullet, style)


# -- PDF ----------------------------------------------------------------------------------


def extract_pdf(data: bytes, limits: LayoutLimits) -> Extracted:
    """Positioned lines from the platform's layout mode (columns, cells, sizes, bold)."""
    doc = pdf_layout(data, max_pages=limits.max_pages)
    lines = []
    running = running_lines(doc.lines) if doc.pages > 1 else set()
    for i, item in enumerate(doc.lines):
        if _shape(item.text) in running and not (item.page == 1 and i < 3):
            continue  # a page header or footer (kept at the top of page 1: the name)
        line = _line(item.text, item.size, item.bold)
        line.x0 = item.x0
        line.cells = [c for c in (" ".join(cell.split()) for cell in item.cells) if c]
        if line.bullet and line.cells:
            line.cells[0] = _line(line.cells[0]).text
        lines.append(line)
    sizes = doc.char_sizes
    tiny = [s for s in sizes if 0 < s < limits.tiny_font_pt]
    share = len(tiny) / len(sizes) if sizes else 0.0
    layout = {
        "multi_column": bool(doc.column_pages),
        "multi_column_pages": doc.column_pages,
        "tiny_fonts": share > limits.tiny_font_share,
        "tiny_font_share": round(share, 4),
        "smallest_font_pt": round(min(sizes), 1) if sizes else None,
        "body_font_pt": round(statistics.median(sizes), 1) if sizes else None,
        "images_instead_of_text": bool(doc.image_pages) or not sizes,
        "image_pages": doc.image_pages,
        "images": doc.images,
        "text_characters": len(sizes),
    }
    return Extracted("pdf", lines, pages=doc.pages, layout=layout)


def _shape(text: str) -> str:
    return re.sub(r"\d+", "#", text.strip().lower())


def running_lines(lines: list[Any]) -> set[str]:
    """Page headers and footers ("February 10, 2026  Claud D. Park · Curriculum Vitae 2"):
    the same line, page numbers aside, on two pages or more as one of a page's first or last
    two lines."""
    by_page: dict[int, list[str]] = {}
    for line in lines:
        by_page.setdefault(line.page, []).append(_shape(line.text))
    seen: dict[str, int] = {}
    for shapes in by_page.values():
        for shape in set(shapes[:2] + shapes[-2:]):
            seen[shape] = seen.get(shape, 0) + 1
    return {shape for shape, n in seen.items() if n >= 2 and len(shape) > 3}


# -- DOCX ---------------------------------------------------------------------------------

#: A table of this many rows or more is a grid read row by row (a label or date column beside
#: its content); fewer rows are a page layout (a sidebar beside the main column) read column
#: by column.
GRID_ROWS = 3


def row_lines(cells: list[list[Line]]) -> list[Line]:
    """One grid row as lines: the k-th lines of its cells side by side, as the cells of one
    line (the way a PDF line keeps a wide gap), so "Name | Joe Bloggs" stays one line."""
    filled = [[line for line in cell if line.text] for cell in cells]
    out = []
    for k in range(max((len(cell) for cell in filled), default=0)):
        side = [cell[k] for cell in filled if k < len(cell)]
        if len(side) == 1:
            out.append(side[0])
            continue
        sizes = [line.size for line in side if line.size]
        joined = Line(
            " ".join(line.text for line in side),
            max(sizes) if sizes else None,
            all(line.bold for line in side),
            side[0].bullet,
            side[0].style,
        )
        joined.cells = [line.text for line in side]
        out.append(joined)
    return out


def extract_docx(data: bytes, limits: LayoutLimits) -> Extracted:
    document = open_docx(data, max_unzipped_bytes=limits.max_unzipped_bytes)
    lines: list[Line] = []
    sizes: list[tuple[float, int]] = []
    header_text = header_paragraphs(document)
    for text in header_text:
        lines.append(_line(text))

    def para_lines(para: Any) -> list[Line]:
        """A paragraph's lines: a soft line break (Shift+Enter, ``<w:br/>``) starts a new line
        ("Egg Inspector" / "Eggs and Ham, Co."), except inside a list item (one bullet)."""
        line = para_line(para)
        pieces = [piece for piece in para.text.split("\n") if piece.strip()]
        if line.bullet or len(pieces) < 2:
            return [line]
        out = []
        for piece in pieces:
            part = _line(fold(piece), line.size, line.bold, line.style)
            part.cells = [c for c in (" ".join(p.split()) for p in piece.split("\t")) if c]
            out.append(part)
        return out

    def para_line(para: Any) -> Line:
        runs = [r for r in para.runs if r.text.strip()]
        run_sizes = [r.font.size.pt for r in runs if r.font.size is not None]
        style_size = (
            para.style.font.size.pt if para.style is not None and para.style.font.size else None
        )
        for r in runs:
            pt = r.font.size.pt if r.font.size is not None else style_size
            if pt:
                sizes.append((float(pt), len(r.text.strip())))
        size = statistics.median(run_sizes) if run_sizes else style_size
        bold = bool(runs) and all(bool(r.bold) for r in runs)
        style = para.style.name if para.style is not None else ""
        line = _line(fold(para.text), size, bold, style)
        line.cells = [c for c in (" ".join(p.split()) for p in para.text.split("\t")) if c]
        if is_list_item(para):
            line.bullet = True
        return line

    table_cells = 0
    wide_tables = 0
    for item in body(document):
        if not isinstance(item, Table):
            lines.extend(para_lines(item))
            continue
        if item.columns >= 2:
            wide_tables += 1
        if len(item.rows) >= GRID_ROWS:  # a grid ("Name | Joe", "2008 - 2010 | Engineer, ...")
            for row in item.rows:
                table_cells += len(row)
                lines.extend(row_lines([[x for p in cell for x in para_lines(p)] for cell in row]))
            continue
        for column in range(item.columns):  # a page layout table, read column by column
            for row in item.rows:
                if column >= len(row):
                    continue
                table_cells += 1
                lines.extend(x for p in row[column] for x in para_lines(p))
    images = len(document.inline_shapes)
    total_chars = sum(n for _, n in sizes) or 1
    tiny_chars = sum(n for pt, n in sizes if pt < limits.tiny_font_pt)
    share = tiny_chars / total_chars
    text_chars = sum(len(line.text) for line in lines)
    layout = {
        "multi_column": wide_tables > 0,
        "layout_tables": wide_tables,
        "tiny_fonts": share > limits.tiny_font_share,
        "tiny_font_share": round(share, 4),
        "smallest_font_pt": round(min(pt for pt, _ in sizes), 1) if sizes else None,
        "images_instead_of_text": images > 0 and text_chars < 200,
        "images": images,
        "text_in_header": bool(header_text),
        "text_characters": text_chars,
    }
    return Extracted("docx", lines, pages=1, layout=layout)

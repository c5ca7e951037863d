# ruff: noqa: RUF001  (resumes and postings really use en/em dashes and curly quotes)
"""Resume files -> text lines with layout hints, and the ATS layout flags.

PDF through pdfplumber (characters with font sizes and names, images, word
positions), DOCX through python-docx (styles, runs, tables, inline images,
headers), plain text as is. A two-column PDF is read column by column (left
then right), so the sections come out in reading order.
"""

from __future__ import annotations

import io
import re
import statistics
import zipfile
from dataclasses import dataclass, field
from typing import Any

from enginedge_streams.errors import LimitExceededError, PermanentError

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


CORRUPT = "CORRUPT_DOCUMENT"


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
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return extract_text(text)


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

#: Gap (pt) below which two characters are one word. pdfplumber's default of 3 glues the
#: words of LaTeX-made PDFs (no space glyphs; an inter-word gap of ~3.3 pt at 10 pt, less
#: when justified): "CreatedRESTfulapis". 1.5 splits them and keeps kerned letters together.
X_TOLERANCE = 1.5


def extract_pdf(data: bytes, limits: LayoutLimits) -> Extracted:
    import pdfplumber
    from pdfminer.pdfparser import PDFSyntaxError

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except (PDFSyntaxError, Exception) as exc:
        raise PermanentError(f"not a readable PDF: {exc}", code=CORRUPT) from None
    with pdf:
        if len(pdf.pages) > limits.max_pages:
            raise LimitExceededError(
                f"the resume has {len(pdf.pages)} pages (max {limits.max_pages})",
                code="TOO_MANY_PAGES",
            )
        lines: list[Line] = []
        sizes: list[float] = []
        columns_pages: list[int] = []
        image_pages: list[int] = []
        image_area = 0.0
        for number, page in enumerate(pdf.pages, 1):
            chars = [c for c in page.chars if c.get("text", "").strip()]
            sizes.extend(float(c.get("size", 0.0)) for c in chars)
            page_area = float(page.width * page.height) or 1.0
            area = sum(
                max(0.0, float(im["x1"] - im["x0"])) * max(0.0, float(im["bottom"] - im["top"]))
                for im in page.images
            )
            image_area += area / page_area
            if page.images and (len(chars) < 80 or area / page_area > 0.5):
                image_pages.append(number)
            gutter = find_gutter(page)
            if gutter is not None:
                columns_pages.append(number)
                parts = [
                    page.crop((0, 0, gutter, page.height)),
                    page.crop((gutter, 0, page.width, page.height)),
                ]
            else:
                parts = [page]  # type: ignore[list-item]  # a Page reads like a CroppedPage
            for part in parts:
                lines.extend(_pdf_lines(part))
        tiny = [s for s in sizes if 0 < s < limits.tiny_font_pt]
        share = len(tiny) / len(sizes) if sizes else 0.0
        layout = {
            "multi_column": bool(columns_pages),
            "multi_column_pages": columns_pages,
            "tiny_fonts": share > limits.tiny_font_share,
            "tiny_font_share": round(share, 4),
            "smallest_font_pt": round(min(sizes), 1) if sizes else None,
            "body_font_pt": round(statistics.median(sizes), 1) if sizes else None,
            "images_instead_of_text": bool(image_pages) or not sizes,
            "image_pages": image_pages,
            "images": sum(len(p.images) for p in pdf.pages),
            "text_characters": len(sizes),
        }
        return Extracted("pdf", lines, pages=len(pdf.pages), layout=layout)


def _pdf_lines(page: Any) -> list[Line]:
    out: list[Line] = []
    for item in page.extract_text_lines(return_chars=True, strip=True, x_tolerance=X_TOLERANCE):
        chars = [c for c in item.get("chars", []) if c.get("text", "").strip()]
        size = statistics.median(float(c["size"]) for c in chars) if chars else None
        bold = (
            bool(chars)
            and sum("bold" in c.get("fontname", "").lower() for c in chars) > len(chars) / 2
        )
        out.append(_line(item["text"], size, bold))
    return out


def find_gutter(page: Any, min_gap: float = 14.0) -> float | None:  # noqa: PLR0912
    """The x of an empty vertical band that splits most text lines in two, or None."""
    words = page.extract_words(keep_blank_chars=False, use_text_flow=False, x_tolerance=X_TOLERANCE)
    if len(words) < 30:
        return None
    width = float(page.width)
    rows: dict[int, list[tuple[float, float]]] = {}
    for w in words:
        rows.setdefault(round(float(w["top"]) / 3), []).append((float(w["x0"]), float(w["x1"])))
    nbins = int(width) + 1
    crossing = [0] * nbins
    left_rows = [0] * nbins
    for spans in rows.values():
        covered = [False] * nbins
        for x0, x1 in spans:
            for x in range(max(0, int(x0)), min(nbins, int(x1) + 1)):
                covered[x] = True
        first = min(x0 for x0, _ in spans)
        for x in range(nbins):
            if covered[x]:
                crossing[x] += 1
            elif first < x:
                left_rows[x] += 1
    n = len(rows)
    best: tuple[int, float] | None = None
    lo, hi = int(width * 0.2), int(width * 0.8)
    run_start = None
    for x in range(lo, hi + 1):
        empty = crossing[x] <= max(1, int(0.08 * n))
        if empty and run_start is None:
            run_start = x
        if (not empty or x == hi) and run_start is not None:
            end = x if not empty else x + 1
            if end - run_start >= min_gap:
                mid = (run_start + end) / 2
                score = end - run_start
                if best is None or score > best[0]:
                    best = (score, mid)
            run_start = None
    if best is None:
        return None
    mid = best[1]
    left = sum(1 for spans in rows.values() if any(x1 < mid for _, x1 in spans))
    right = sum(1 for spans in rows.values() if any(x0 > mid for x0, _ in spans))
    if left >= 0.3 * n and right >= 0.3 * n:
        return mid
    return None


# -- DOCX ---------------------------------------------------------------------------------


def extract_docx(data: bytes, limits: LayoutLimits) -> Extracted:  # noqa: PLR0912, PLR0915 - one walk of the body
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            total = sum(i.file_size for i in zf.infolist())
    except zipfile.BadZipFile:
        raise PermanentError("not a readable DOCX file", code=CORRUPT) from None
    if total > limits.max_unzipped_bytes:
        raise LimitExceededError(
            "the DOCX expands beyond the size limit", code="DOCUMENT_TOO_LARGE"
        )
    import docx
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:
        raise PermanentError(f"not a readable DOCX file: {exc}", code=CORRUPT) from None
    lines: list[Line] = []
    sizes: list[tuple[float, int]] = []
    header_text: list[str] = []
    for section in document.sections:
        for para in section.header.paragraphs:
            if para.text.strip():
                header_text.append(para.text.strip())
    for text in header_text:
        lines.append(_line(text))

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
        numbered = para._p.pPr is not None and para._p.pPr.find(qn("w:numPr")) is not None
        line = _line(para.text, size, bold, style)
        if numbered or "list" in style.lower():
            line.bullet = True
        return line

    table_cells = 0
    wide_tables = 0
    body = document.element.body
    for child in body.iterchildren():
        if child.tag == qn("w:p"):
            lines.append(para_line(Paragraph(child, document)))
        elif child.tag == qn("w:tbl"):
            # Rows and cells straight from the XML: python-docx's table.columns needs a
            # <w:tblGrid>, which valid files written by other tools leave out.
            rows = [list(tr.iterchildren(qn("w:tc"))) for tr in child.iterchildren(qn("w:tr"))]
            ncols = max((len(r) for r in rows), default=0)
            if ncols >= 2:
                wide_tables += 1
            for column in range(ncols):  # read a layout table column by column
                for row in rows:
                    if column >= len(row):
                        continue
                    table_cells += 1
                    for p in row[column].iter(qn("w:p")):
                        lines.append(para_line(Paragraph(p, document)))
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

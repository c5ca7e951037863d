"""PDF in two modes: plain text per page (ingestion) and positioned lines (resumes).

* :class:`PdfText` — pypdf's text per page, NFKC-folded (ligatures). pypdf measured better
  than pdfplumber for plain text on TeX Live's manuals (docs/benchmarks.md, "PDF text").
* :func:`layout_lines` — pdfplumber's words with ``x_tolerance`` 1.5 (the default 3 glues the
  words of LaTeX-made PDFs: "CreatedRESTfulapis"), grouped into lines that keep their font size,
  boldness, left/right edges and the *cells* a wide gap separates (a right-aligned date stays
  on its job's line as its own cell). A page is read column by column only when it really has
  two left-aligned columns (a sidebar), never because of right-aligned dates or a label column.

Every library failure is a per-file reason (``CORRUPT_DOCUMENT``, ``ENCRYPTED_DOCUMENT``,
``TOO_MANY_PAGES``), see :mod:`enginedge_streams.documents.errors`.
"""

from __future__ import annotations

import io
import logging
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from enginedge_streams.documents import errors
from enginedge_streams.documents.text import fold
from enginedge_streams.errors import PermanentError

log = logging.getLogger("enginedge.documents.pdf")

#: Gap (pt) below which two characters are one word (see the module doc).
X_TOLERANCE = 1.5
_DATE_ONLY = re.compile(
    r"[\W\d]*(?:[A-Za-z]{3,9}\.?\s*)?(?:1[89]|20)\d{2}[\W\d]*(?:(?:[A-Za-z]{3,9}\.?\s*)?(?:(?:1[89]|20)\d{2})?|present|now|ff\.?)\W*",
    re.I,
)
#: A gap wider than this many times the font size between two words starts a new cell.
CELL_GAP_EM = 1.6


class PdfText:
    """pypdf's text per page; encrypted and unreadable files refused with their own codes."""

    def __init__(self, data: bytes, *, max_pages: int) -> None:
        import pypdf

        logging.getLogger("pypdf").setLevel(logging.ERROR)
        try:
            self.reader: Any = pypdf.PdfReader(io.BytesIO(data), strict=False)
            if self.reader.is_encrypted:
                try:
                    ok: Any = self.reader.decrypt("")
                except Exception:
                    ok = 0
                if not ok:
                    raise errors.encrypted("PDF")
            self.pages_total = len(self.reader.pages)
            meta = self.reader.metadata
            self.title = (str(meta.title).strip() or None) if meta and meta.title else None
        except PermanentError:
            raise
        except Exception as exc:  # pypdf raises assorted errors on broken files
            raise errors.corrupt("PDF", exc) from None
        if self.pages_total == 0:
            raise PermanentError("the PDF has no pages", code=errors.CORRUPT)
        if self.pages_total > max_pages:
            raise errors.too_many_pages(self.pages_total, max_pages)

    def page_text(self, index: int) -> str:
        """Folded text of page ``index`` (0-based); '' when it has no usable text layer."""
        try:
            text = self.reader.pages[index].extract_text() or ""
        except Exception as exc:
            log.warning("page %d: text extraction failed (%s)", index + 1, type(exc).__name__)
            return ""
        return fold(text)


@dataclass
class PdfLine:
    text: str
    size: float | None
    bold: bool
    x0: float
    x1: float
    page: int
    cells: list[str] = field(default_factory=list)


@dataclass
class PdfLayout:
    lines: list[PdfLine]
    pages: int
    char_sizes: list[float]
    column_pages: list[int]
    image_pages: list[int]
    images: int


def layout_lines(data: bytes, *, max_pages: int) -> PdfLayout:
    """Positioned lines of every page in reading order (see the module doc)."""
    try:
        import pdfplumber

        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as exc:
        raise _open_error(exc) from None
    try:
        with pdf:
            if len(pdf.pages) > max_pages:
                raise errors.too_many_pages(len(pdf.pages), max_pages)
            return _layout(pdf)
    except PermanentError:
        raise
    except Exception as exc:  # pdfminer raises anything on malformed content streams
        raise errors.corrupt("PDF", exc) from None


def _open_error(exc: BaseException) -> PermanentError:
    name = type(exc).__name__
    if "Password" in name or "Encrypt" in name:
        return errors.encrypted("PDF")
    return errors.corrupt("PDF", exc)


def _layout(pdf: Any) -> PdfLayout:
    lines: list[PdfLine] = []
    sizes: list[float] = []
    column_pages: list[int] = []
    image_pages: list[int] = []
    images = 0
    for number, page in enumerate(pdf.pages, 1):
        chars = [c for c in page.chars if c.get("text", "").strip()]
        sizes.extend(float(c.get("size", 0.0)) for c in chars)
        page_area = float(page.width * page.height) or 1.0
        area = sum(
            max(0.0, float(im["x1"] - im["x0"])) * max(0.0, float(im["bottom"] - im["top"]))
            for im in page.images
        )
        images += len(page.images)
        if page.images and (len(chars) < 80 or area / page_area > 0.5):
            image_pages.append(number)
        rows = _rows(page)
        gutter = find_gutter(rows, float(page.width))
        if gutter is None:
            lines.extend(_line(row, number) for row in rows)
            continue
        column_pages.append(number)
        left = [[w for w in row if w["x1"] <= gutter] for row in rows]
        right = [[w for w in row if w["x0"] >= gutter] for row in rows]
        lines.extend(_line(row, number) for row in left if row)
        lines.extend(_line(row, number) for row in right if row)
    return PdfLayout(lines, len(pdf.pages), sizes, column_pages, image_pages, images)


def _rows(page: Any) -> list[list[dict[str, Any]]]:
    """Words grouped into text lines (pdfplumber's line clustering), left to right."""
    words = page.extract_words(
        x_tolerance=X_TOLERANCE, keep_blank_chars=False, extra_attrs=["size", "fontname"]
    )
    rows: list[list[dict[str, Any]]] = []
    for w in sorted(words, key=lambda w: (round(float(w["top"])), float(w["x0"]))):
        w["text"] = fold(w["text"].replace("\u00ad", "-"))  # a drawn soft hyphen is a hyphen
        for row in reversed(rows[-3:]):  # a word on an existing line (same baseline band)
            ref = row[0]
            tol = min(float(ref["size"]), float(w["size"])) * 0.5
            if abs(float(ref["bottom"]) - float(w["bottom"])) <= tol:
                row.append(w)
                break
        else:
            rows.append([w])
    for row in rows:
        row.sort(key=lambda w: float(w["x0"]))
    rows.sort(key=lambda r: min(float(w["top"]) for w in r))
    return rows


def _line(row: list[dict[str, Any]], page: int) -> PdfLine:
    cells: list[str] = []
    current: list[str] = []
    prev: dict[str, Any] | None = None
    for w in row:
        if prev is not None and float(w["x0"]) - float(prev["x1"]) > CELL_GAP_EM * float(w["size"]):
            cells.append(" ".join(current))
            current = []
        if current and w["text"][:1] in ",.;:!?)" and len(w["text"]) <= 2:
            current[-1] += w["text"]  # punctuation set apart by kerning
        else:
            current.append(w["text"])
        prev = w
    cells.append(" ".join(current))
    size = statistics.median(float(w["size"]) for w in row)
    nchars = sum(len(w["text"]) for w in row)
    bold = sum(len(w["text"]) for w in row if "bold" in w["fontname"].lower()) > nchars / 2
    return PdfLine(
        " ".join(cells),
        round(size, 2),
        bold,
        float(row[0]["x0"]),
        float(row[-1]["x1"]),
        page,
        cells,
    )


def find_gutter(  # noqa: PLR0912 - one pass over the bins
    rows: list[list[dict[str, Any]]], width: float, min_gap: float = 14.0
) -> float | None:
    """The x of an empty vertical band splitting the page into two left-aligned columns.

    A band no word crosses on most lines is a candidate; it is a column gutter only when the
    text on both sides starts at a common left edge (a sidebar and a main column), not when
    the right side is right-aligned dates or the left side a right-aligned label column.
    """
    if sum(len(r) for r in rows) < 30 or len(rows) < 8:
        return None
    nbins = int(width) + 1
    crossing = [0] * nbins
    for row in rows:
        covered = [False] * nbins
        for w in row:
            for x in range(max(0, int(w["x0"])), min(nbins, int(w["x1"]) + 1)):
                covered[x] = True
        for x in range(nbins):
            crossing[x] += covered[x]
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
            if end - run_start >= min_gap and (best is None or end - run_start > best[0]):
                best = (end - run_start, (run_start + end) / 2)
            run_start = None
    if best is None:
        return None
    mid = best[1]
    lefts = [row[0]["x0"] for row in rows if row[0]["x1"] < mid]
    rights = [
        next(float(w["x0"]) for w in row if w["x0"] > mid) for row in rows if row[-1]["x0"] > mid
    ]
    if len(lefts) < 0.3 * n or len(rights) < 0.3 * n:
        return None
    if _aligned(lefts) < 0.5 or _aligned(rights) < 0.5:
        return None
    right_text = [
        " ".join(w["text"] for w in row if w["x0"] > mid) for row in rows if row[-1]["x0"] > mid
    ]
    if sum(bool(_DATE_ONLY.fullmatch(t)) for t in right_text) > 0.5 * len(right_text):
        return None  # a column of dates beside the entries, not a second column of text
    chars = [
        sum(len(w["text"]) for row in rows for w in row if (w["x0"] > mid) == side)
        for side in (False, True)
    ]
    if min(chars) < 0.15 * sum(chars):
        return None  # locations and dates at the right edge, not a column
    left_ends = [
        max(float(w["x1"]) for w in row if w["x1"] < mid) for row in rows if row[0]["x1"] < mid
    ]
    if _aligned(left_ends) > _aligned(lefts):  # a right-aligned label column
        return None
    return mid


def _aligned(xs: list[float], tol: float = 4.0) -> float:
    """Share of ``xs`` within ``tol`` of the most common value."""
    if not xs:
        return 0.0
    mode, _ = Counter(round(float(x) / tol) for x in xs).most_common(1)[0]
    return sum(abs(float(x) / tol - mode) <= 1 for x in xs) / len(xs)

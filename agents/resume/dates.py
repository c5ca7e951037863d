# ruff: noqa: RUF001  (resumes and postings really use en/em dashes and curly quotes)
"""Dates and date ranges as resumes and postings write them."""

from __future__ import annotations

import re

MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for m in names
}
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
DATE = (
    rf"(?:{_MONTH}\s+(?:1[89]|20)\d{{2}}|(?:0?[1-9]|1[0-2])/(?:1[89]|20)\d{{2}}"
    r"|(?:1[89]|20)\d{2}-(?:0[1-9]|1[0-2])|(?:1[89]|20)\d{2})"
)
OPEN_END = r"(?:Present|Current|Now|Today|Ongoing|(?:till|to) date)"
RANGE_RE = re.compile(
    rf"(?P<start>{DATE})\s*(?:-|–|—|to|until|~)\s*(?:Exp(?:ected)?\.?\s*)?(?P<end>{DATE}|{OPEN_END})",
    re.IGNORECASE,
)
#: "since 1862", "Since 07/1997", "from March 2020": an open range.
SINCE_RE = re.compile(
    rf"\b(?:since|from)\s+(?P<start>{DATE})(?![\d/])(?!\s*(?:-|–|—|to|until))", re.IGNORECASE
)
SINGLE_RE = re.compile(rf"(?<![\d/])(?P<date>{DATE})(?![\d/])", re.IGNORECASE)


def normalise(value: str) -> str:
    """`Mar 2019` -> `2019-03`, `03/2019` -> `2019-03`, `2019` -> `2019`, Present -> present."""
    v = value.strip().rstrip(".")
    if re.fullmatch(OPEN_END, v, re.IGNORECASE):
        return "present"
    m = re.fullmatch(r"([A-Za-z]+)\.?\s+(\d{4})", v)
    if m and m.group(1).lower() in MONTHS:
        return f"{m.group(2)}-{MONTHS[m.group(1).lower()]:02d}"
    m = re.fullmatch(r"(\d{1,2})/(\d{4})", v)
    if m:
        return f"{m.group(2)}-{int(m.group(1)):02d}"
    m = re.fullmatch(r"(\d{4})-(\d{2})", v)
    if m:
        return v
    return v


def find_range(text: str) -> tuple[str, str, tuple[int, int]] | None:
    """The first date range in ``text``: (start, end, span), normalised."""
    m = RANGE_RE.search(text)
    if m is None:
        since = SINCE_RE.search(text)
        if since is None:
            return None
        return normalise(since.group("start")), "present", since.span()
    return normalise(m.group("start")), normalise(m.group("end")), m.span()


def find_single(text: str) -> tuple[str, tuple[int, int]] | None:
    m = SINGLE_RE.search(text)
    if m is None:
        return None
    return normalise(m.group("date")), m.span()


def months_between(start: str, end: str, now: tuple[int, int]) -> int | None:
    def parse(v: str) -> tuple[int, int] | None:
        if v == "present":
            return now
        m = re.fullmatch(r"(\d{4})(?:-(\d{2}))?", v)
        if not m:
            return None
        return int(m.group(1)), int(m.group(2) or 1)

    a, b = parse(start), parse(end)
    if a is None or b is None:
        return None
    return max(0, (b[0] - a[0]) * 12 + (b[1] - a[1]))

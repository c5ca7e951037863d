# ruff: noqa: RUF001, RUF002, RUF003  (resumes really use en/em dashes and curly quotes)
"""Experience, education and project entries of a resume section (pure functions).

An entry is its header lines (title, company, location, dates — on one line or several, in
any order) and its bullets. A new entry starts after bullets, or at a line that starts with a
date when the current header already has one. A line that continues a bullet (indented like
the bullet's text, or starting in lower case) is joined to it, so a wrapped bullet never
becomes an extra job. Header lines are split into parts at wide gaps (PDF cells) and at
separators; the title is the part with a job-title word.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from agents.resume.contact import LOCATION_RE, links
from agents.resume.dates import find_range, find_single
from agents.resume.documents import Line
from agents.resume.vocabulary import DEGREE_RE, INSTITUTION_RE, TITLE_WORDS

STATE_LOCATION_RE = re.compile(r"\b([A-Z][a-zA-Z]+(?: [A-Z][a-zA-Z]+)*, [A-Z]{2})\b")
#: ", " before a capital separates parts, except a company's legal form ("Eggs and Ham, Co.")
SEPARATORS = re.compile(
    r"\s+(?:\||—|–|-|@|at|·|•)\s+|\s*[|•·]\s*"
    r"|,\s+(?=[A-Z])(?!(?:Co|Inc|Ltd|LLC|LLP|GmbH|Corp|PLC|SA|AG)\b)"
)
LEADING_DATE = re.compile(
    r"^\W*(?:since\s+|from\s+)?(?:\w+\.?\s+)?(?:\d{1,2}/)?(?:1[89]|20)\d{2}\b", re.I
)


def split_entries(
    lines: list[Line], opens: Callable[[str], bool] | None = None
) -> list[tuple[list[Line], list[Line]]]:
    """(header lines, bullet/description lines) per entry. ``opens``: a line that starts an
    entry when the dated header above already has one (a job title, a degree), for entries
    written without bullets between them ("Egg Inspector / Eggs and Ham, Co. / 2013 - 2014")."""
    entries: list[tuple[list[Line], list[Line]]] = []
    head: list[Line] = []
    body: list[Line] = []
    # entries that open with their dates ("1844-1846  Teacher, ..."): an undated line before
    # one belongs to the entry above ("Business or sector ..."), or is a group label
    date_first = sum(_opens_with_date(x) for x in lines if not x.bullet) >= 2
    for line in lines:
        if head and not body and line.text[:1].islower() and not line.bullet:
            prev = head[-1]  # a header line wrapped ("..., University" "of G-Town"; "Ger-" "many")
            text = (
                prev.text[:-1] + line.text
                if prev.text.endswith("-")
                else f"{prev.text} {line.text}"
            )
            cells = [*prev.parts()[:-1], text[len(" ".join(prev.parts()[:-1])) :].strip()]
            head[-1] = Line(text, prev.size, prev.bold, False, prev.style, prev.x0, cells)
            continue
        if line.bullet:
            body.append(line)
            continue
        if body and continues(line, body[-1]):
            prev = body[-1]
            joiner = "" if prev.text.endswith("-") and line.text[:1].islower() else " "
            body[-1] = Line(
                prev.text + joiner + line.text, prev.size, prev.bold, True, prev.style, prev.x0
            )
            continue
        if body and date_first and head and not _opens_with_date(line):
            head.append(line)  # a line after the bullets of a dated entry: still that entry
            continue
        if body or (head and _starts_entry(line, head, opens)):
            carry: list[Line] = []
            if not body and _dated_line(line):
                carry, head = _next_entrys_lines(head)
            entries.append((head, body))
            head, body = carry, []
        elif date_first and head and _opens_with_date(line) and not _dated(head):
            if entries:
                entries[-1][0].extend(head)
            head = []
        elif head and starts_with_date(line.text) and _group_labels(head):
            head = []  # "Teaching" above "1844–1846 Teacher, Lowood School": a group label
        head.append(line)
    if head or body:
        entries.append((head, body))
    return [(h, b) for h, b in entries if h or b]


def _dated_line(line: Line) -> bool:
    return (find_range(line.text) or find_single(line.text)) is not None


def _next_entrys_lines(head: list[Line]) -> tuple[list[Line], list[Line]]:
    """(lines that open the next entry, the rest of ``head``): in entries written "Company /
    Title + dates" without bullets, the undated lines after this entry's dated line are the next
    entry's company ("Danggeun Market Inc. / SRE Feb. 2021 - Mar. 2021 / Kasa / Founding ...")."""
    dated = [i for i, h in enumerate(head) if _dated_line(h)]
    if not dated or dated[-1] == 0 or _dated_line(head[0]) or dated[-1] == len(head) - 1:
        return [], head
    rest = head[dated[-1] + 1 :]
    shape = len(head[0].parts())
    if not all(len(h.parts()) == shape and _label_like(h.text) for h in rest):
        return [], head  # a description line of this entry ("Teaching all grades.")
    return rest, head[: dated[-1] + 1]


_LEGAL_FORM_END = re.compile(r"\b(?:Inc|Ltd|Co|Corp|LLC|GmbH|S\.A|PLC)\.$")


def _label_like(text: str) -> bool:
    """A company or place line, not a sentence: a few words, no full stop but a legal form's."""
    text = text.strip()
    return len(text.split()) <= 8 and (not text.endswith(".") or bool(_LEGAL_FORM_END.search(text)))


def _opens_with_date(line: Line) -> bool:
    """ "1844-1846  Teacher, Lowood School": a date and then the entry (not a date alone)."""
    return starts_with_date(line.text) and not _is_date(line.text)


def _dated(head: list[Line]) -> bool:
    return any(find_range(h.text) or find_single(h.text) for h in head)


def _group_labels(head: list[Line]) -> bool:
    return all(
        len(h.text.split()) <= 3 and find_range(h.text) is None and find_single(h.text) is None
        for h in head
    )


def continues(line: Line, bullet: Line) -> bool:
    """``line`` is the wrapped rest of ``bullet``: indented past the bullet glyph, or (no
    positions known) starting in lower case."""
    if line.x0 is not None and bullet.x0 is not None:
        return line.x0 > bullet.x0 + 2.0
    return not starts_with_date(line.text) and line.text[:1].islower()


def starts_with_date(text: str) -> bool:
    return bool(LEADING_DATE.match(text)) and (find_range(text) or find_single(text)) is not None


def _starts_entry(line: Line, head: list[Line], opens: Callable[[str], bool] | None) -> bool:
    """A header line that starts a new entry (an entry has one date)."""
    head_dated = any(find_range(h.text) or find_single(h.text) for h in head)
    if not head_dated:
        return False
    if starts_with_date(line.text):
        return True
    if opens is not None and opens(line.text) and any(opens(h.text) for h in head):
        return True
    return any(find_range(h.text) for h in head) and find_range(line.text) is not None


def _parts(text: str) -> list[str]:
    return [p.strip(" ,;:()") for p in SEPARATORS.split(text) if p and p.strip(" ,;:()")]


def is_title(text: str) -> bool:
    words = {w.lower().strip(".,()") for w in re.split(r"[\s/]+", text)}
    return bool(words & TITLE_WORDS)


def is_location(text: str) -> bool:
    t = text.strip()
    return bool(LOCATION_RE.fullmatch(t)) or t.lower() in {"remote", "hybrid", "on-site", "onsite"}


def header_parts(head: list[Line]) -> list[tuple[int, str]]:
    """(origin, part) of the header lines: a date range is a part of its own; cells of a PDF
    line stay whole unless they hold a job title ("Teacher, Lowood School") or follow a date
    ("1849-1867 | Home schooling, Ferndean"); plain lines are split at separators."""
    out: list[tuple[int, str]] = []
    origin = 0
    for line in head:
        cells = _cells(line)
        multi = len(line.parts()) > 1
        dated_first = multi and (starts_with_date(cells[0]) or _is_date(cells[-1]))
        for cell in cells:
            origin += 1
            for seg, is_range in _range_split(cell):
                if is_range:
                    out.append((origin, seg))
                    continue
                if multi and not is_title(seg) and not dated_first:
                    pieces = [seg.strip(" ,;:()")]
                elif is_title(seg) and _TITLE_THEN.match(seg):
                    pieces = _title_then_employer(seg)
                else:
                    pieces = _parts(seg)
                out.extend((origin, p) for p in pieces if p)
    return out


def _is_date(text: str) -> bool:
    rng = find_range(text)
    return starts_with_date(text) and (rng is None or len(text) - (rng[2][1] - rng[2][0]) < 6)


_TITLE_THEN = re.compile(r"(?P<title>[^,]+?)(?:,\s+|\s+at\s+(?:the\s+)?)(?P<rest>.+)")


def _title_then_employer(seg: str) -> list[str]:
    """ "Teacher, Lowood School, Lowood." / "Research Assistant at the Faculty of Economics,
    University of G-Town": the title, then the employer with what follows it as one part."""
    m = _TITLE_THEN.match(seg)
    assert m is not None
    title, rest = m.group("title").strip(" ,;:()"), m.group("rest").strip(" ,;:()")
    if not is_title(title):
        return _parts(seg)
    return [title, *(_parts(rest) if is_location(rest) else [rest])]


def _range_split(cell: str) -> list[tuple[str, bool]]:
    rng = find_range(cell)
    if rng is None:
        return [(cell, False)]
    a, b = rng[2]
    segs = [(cell[:a].strip(" |,;–-"), False), (cell[a:b], True), (cell[b:].strip(" |,;–-"), False)]
    return [(t, r) for t, r in segs if t]


def _cells(line: Line) -> list[str]:
    """The line's cells; a date range drawn across two cells ("August 2002 –" | "Present")
    made one again."""
    cells = line.parts()
    rng = find_range(line.text) if len(cells) > 1 else None
    if rng is None or any(find_range(c) for c in cells):
        return cells
    a, b = rng[2]
    return [p.strip() for p in (line.text[:a], line.text[a:b], line.text[b:]) if p.strip()]


def _take_dates(
    parts: list[tuple[int, str]], *, anywhere: bool = False
) -> tuple[str | None, str | None, list[tuple[int, str]]]:
    for i, (origin, part) in enumerate(parts):
        rng = find_range(part)
        if rng:
            start, end, (a, b) = rng
            rest = (part[:a] + " " + part[b:]).strip(" ,;:()|–-")
            kept = [*parts[:i], *([(origin, rest)] if rest else []), *parts[i + 1 :]]
            return start, end, kept
    for i, (origin, part) in enumerate(parts):
        single = find_single(part)
        if single is not None and (anywhere or starts_with_date(part) or len(part) <= 12):
            value, (a, b) = single
            rest = (part[:a] + " " + part[b:]).strip(" ,;:()|–-")
            rest = re.sub(r"^(?:since|from)\s*$|^ff\.?$", "", rest, flags=re.I).strip()
            kept = [*parts[:i], *([(origin, rest)] if rest else []), *parts[i + 1 :]]
            return value, None, kept
    return None, None, parts


_PROSE_COMPANY = re.compile(r"\b(?:with|for|at)\s+(?P<company>[A-Z].*?)(?:,|\s+from)?\s*$")
_PROSE_TITLE = re.compile(
    r"\b(?:designation(?:\s+of)?|as|role of|position of)\s*[–:-]?\s*(?P<title>[A-Z][^.;]*)", re.I
)


def prose_job(text: str) -> dict[str, Any] | None:
    """ "Worked for Acme Ltd, from Mar 2016 to Nov 2018 in the designation of Associate." """
    rng = find_range(text)
    if rng is None:
        return None
    start, end, (a, b) = rng
    company = _PROSE_COMPANY.search(text[:a])
    title = _PROSE_TITLE.search(text[b:])
    if company is None or title is None:
        return None
    name = company.group("company").split(", ")[0].strip(" ,")
    return {
        "title": title.group("title").strip(" .–-"),
        "company": name,
        "location": None,
        "start": start,
        "end": end,
        "current": end == "present",
        "bullets": [],
    }


def _title_line(text: str) -> bool:
    return is_title(text) and len(text.split()) <= 6 and find_range(text) is None


def _degree_line(text: str) -> bool:
    return bool(DEGREE_RE.match(text)) and find_range(text) is None


def experience(lines: list[Line]) -> list[dict[str, Any]]:
    out = []
    for head, body in split_entries(lines, _title_line):
        if not head:  # a list of sentences, one job each
            jobs = [job for job in map(prose_job, (b.text for b in body)) if job]
            if jobs:
                out.extend(jobs)
                continue
        start, end, parts = _take_dates(header_parts(head))
        title = company = location = None
        rest: list[tuple[int, str]] = []
        for origin, part in parts:
            state = STATE_LOCATION_RE.search(part)
            if location is None and (is_location(part) or (state and state.group(0) == part)):
                location = part
            elif title is None and is_title(part) and len(part.split()) <= 12:
                title = part
            else:
                rest.append((origin, part))
        if title is None and len(rest) >= 2 and rest[0][0] == rest[1][0]:
            title = rest.pop(0)[1]  # "Home schooling, Ferndean": title first on one line
        if rest:
            company = rest.pop(0)[1]
        if title is None and rest:
            title = rest.pop(0)[1]
        out.append(
            {
                "title": title,
                "company": company,
                "location": location,
                "start": start,
                "end": end,
                "current": end == "present",
                "bullets": [b.text for b in body],
            }
        )
    return out


def education(lines: list[Line]) -> list[dict[str, Any]]:
    out = []
    groups = []
    for head, body in split_entries(lines, _degree_line):
        if head:
            groups.append(head + body)
        else:  # one bullet per degree
            groups.extend([b] for b in body)
    for group in groups:
        start, end, parts = _take_dates(header_parts(group), anywhere=True)
        if end is None and start is not None:
            start, end = None, start  # a single date is the graduation
        degree = institution = None
        for _, part in parts:
            quoted = any(q in part for q in '“”"«»')  # a thesis title, not the school
            if institution is None and INSTITUTION_RE.search(part) and not quoted:
                institution = part
            elif degree is None and DEGREE_RE.search(part):
                degree = part
        if degree is None and institution is None:
            continue
        out.append({"degree": degree, "institution": institution, "start": start, "end": end})
    return out


def projects(lines: list[Line]) -> list[dict[str, Any]]:
    out = []
    for head, body in split_entries(lines):
        if not head:
            continue
        first = head[0].text
        name = re.split(r"\s+[\u2014\u2013|-]\s+|:\s+", first, maxsplit=1)[0]
        tail = first[len(name) :].strip(" —–|-:")
        description = [t for t in [tail, *(h.text for h in head[1:])] if t]
        tech = re.findall(r"\(([^)]+)\)", first)
        out.append(
            {
                "name": re.sub(r"\s*\([^)]*\)", "", name).strip(),
                "description": " ".join(description) or None,
                "technologies": [t.strip() for t in ",".join(tech).split(",") if t.strip()],
                "links": links(" ".join(h.text for h in head + body)),
                "bullets": [b.text for b in body],
            }
        )
    return out

# ruff: noqa: RUF001  (resumes and postings really use en/em dashes and curly quotes)
"""Resume text lines -> contact, sections and structured entries (pure functions).

Headings are recognised from a vocabulary of section names (exact, or short
lines that start with one and are set in capitals, bold or a larger font).
Experience, education and project entries are split where a non-bullet line
follows bullets; each entry header is split into title / company / location /
dates with the date-range grammar in ``dates.py`` and title vocabulary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agents.resume.dates import find_range, find_single
from agents.resume.documents import Line

SECTIONS: dict[str, tuple[str, ...]] = {
    "summary": (
        "summary",
        "professional summary",
        "profile",
        "professional profile",
        "about",
        "about me",
        "objective",
        "career objective",
        "career summary",
    ),
    "experience": (
        "experience",
        "work experience",
        "professional experience",
        "employment",
        "employment history",
        "work history",
        "career history",
        "relevant experience",
        "selected experience",
        "working experience",
        "working exp",
        "work exp",
        "professional background",
        "experience summary",
        "internships",
        "internship",
    ),
    "education": (
        "education",
        "academic background",
        "education and training",
        "academics",
        "academic qualifications",
        "educational qualifications",
        "qualifications",
        "academic details",
        "education details",
    ),
    "skills": (
        "skills",
        "technical skills",
        "core competencies",
        "competencies",
        "technologies",
        "skills and tools",
        "skills & tools",
        "tools and technologies",
        "key skills",
        "skill set",
        "skillset",
        "skills set",
        "it proficiency",
        "it skills",
        "computer skills",
        "technical proficiency",
        "technical expertise",
        "areas of expertise",
    ),
    "projects": (
        "projects",
        "personal projects",
        "selected projects",
        "side projects",
        "key projects",
    ),
    "certifications": ("certifications", "certificates", "licenses and certifications"),
    "awards": ("awards", "honors", "honours", "achievements"),
    "publications": ("publications",),
    "languages": ("languages",),
    "interests": ("interests", "hobbies"),
    "volunteering": ("volunteering", "volunteer experience", "volunteer work"),
}
_HEADINGS = {name: section for section, names in SECTIONS.items() for name in names}

TITLE_WORDS = {
    "engineer",
    "developer",
    "manager",
    "analyst",
    "scientist",
    "designer",
    "intern",
    "consultant",
    "lead",
    "director",
    "architect",
    "specialist",
    "administrator",
    "coordinator",
    "associate",
    "officer",
    "head",
    "vp",
    "president",
    "founder",
    "co-founder",
    "researcher",
    "teacher",
    "nurse",
    "accountant",
    "programmer",
    "technician",
    "assistant",
    "executive",
    "strategist",
    "owner",
    "principal",
    "sre",
    "devops",
    "recruiter",
    "editor",
    "writer",
    "product",
    "staff",
    "cto",
    "ceo",
    "advisor",
    "instructor",
    "professor",
    "fellow",
    "representative",
    "supervisor",
}
DEGREE_RE = re.compile(
    r"\b(Ph\.?\s?D\.?|Doctor(?:ate)? of [A-Z][\w ]+|M\.?B\.?A\.?|Master(?:'s)?(?: of [A-Z][\w ]+)?"
    r"|M\.?S\.?c?\.?|M\.?A\.?|M\.?Eng\.?|Bachelor(?:'s)?(?: of [A-Z][\w ]+)?|B\.?S\.?c?\.?"
    r"|B\.?A\.?|B\.?Eng\.?|B\.?Tech\.?|Associate(?:'s)? (?:of|in) [A-Z][\w ]+|A\.?A\.?S?\.?"
    r"|Diploma(?: in [A-Z][\w ]+)?|High School Diploma)(?=[\s,|–—-]|$)"
)
INSTITUTION_RE = re.compile(
    r"\b(University|College|Institute|School|Academy|Polytechnic|Universidad|Université|"
    r"Hochschule|Conservatory)\b"
)
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
URL_RE = re.compile(
    r"(?:https?://|www\.)[^\s|,;<>]+|(?<![@\w.])(?:linkedin\.com|github\.com|gitlab\.com|"
    r"behance\.net|dribbble\.com|medium\.com|stackoverflow\.com)/[^\s|,;<>]+",
    re.IGNORECASE,
)
LOCATION_RE = re.compile(r"\b([A-Z][a-zA-Z]+(?: [A-Z][a-zA-Z]+)*, (?:[A-Z]{2}|[A-Z][a-z]+))\b")
STATE_LOCATION_RE = re.compile(r"\b([A-Z][a-zA-Z]+(?: [A-Z][a-zA-Z]+)*, [A-Z]{2})\b")
SEPARATORS = re.compile(r"\s+(?:\||—|–|-|@|at|·|•)\s+|\s*[|•·]\s*|,\s+(?=[A-Z])")


def norm_heading(text: str) -> str:
    return re.sub(r"[^a-z& ]", "", text.lower()).strip()


def heading_of(line: Line, body_size: float | None) -> str | None:
    text = line.text.strip()
    if not text or line.bullet or len(text) > 40:
        return None
    key = norm_heading(text.rstrip(":"))
    if key in _HEADINGS:
        return _HEADINGS[key]
    emphasised = (
        text.isupper()
        or line.bold
        or (body_size is not None and line.size is not None and line.size >= body_size + 1.5)
    )
    if emphasised and len(key.split()) <= 4:
        for name, section in _HEADINGS.items():
            if key.startswith(name):
                return section
    return None


@dataclass
class Sections:
    header: list[Line] = field(default_factory=list)
    sections: dict[str, list[Line]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)


def margin_heading(line: Line) -> tuple[str, Line] | None:
    """A heading set in the left margin, on the same line as the section's first content
    ("EXPERIENCE  Software Engineer, Acme"): (section, the rest of the line)."""
    words = line.text.split()
    if line.bullet or len(words) < 2:
        return None
    for n in (3, 2, 1):
        if len(words) <= n:
            continue
        head = " ".join(words[:n])
        if not head.isupper():
            continue
        key = norm_heading(head.rstrip(":"))
        if key in _HEADINGS and not words[n].isupper():
            rest = Line(" ".join(words[n:]), line.size, line.bold, line.bullet, line.style)
            return _HEADINGS[key], rest
    return None


def split_sections(lines: list[Line], body_size: float | None = None) -> Sections:
    out = Sections()
    current: list[Line] = out.header
    for line in lines:
        if not line.text.strip():
            continue
        section = heading_of(line, body_size)
        margin = margin_heading(line) if section is None else None
        if margin is not None:
            section, rest = margin
            current = out.sections.setdefault(section, [])
            if section not in out.order:
                out.order.append(section)
            current.append(rest)
            continue
        if section is not None:
            current = out.sections.setdefault(section, [])
            if section not in out.order:
                out.order.append(section)
            continue
        current.append(line)
    return out


# -- contact ------------------------------------------------------------------------------


#: Regions tried for numbers written without a country code (``+CC`` numbers parse anywhere).
PHONE_REGIONS = ("US", "GB", "IN", "DE", "FR", "AU")


def phone_spans(raw: str) -> list[tuple[int, str]]:
    """(offset, text as written) of every valid phone number, by Google's libphonenumber
    metadata (``phonenumbers``): country codes like ``(+358)`` or ``+91`` stay, national
    numbers are tried against :data:`PHONE_REGIONS`; years, GPAs and ids are not numbers."""
    import phonenumbers

    found: dict[int, str] = {}
    for region in PHONE_REGIONS:
        for m in phonenumbers.PhoneNumberMatcher(raw, region, leniency=phonenumbers.Leniency.VALID):
            text = m.raw_string.strip()
            before = raw[m.start - 1] if m.start > 0 else " "
            digits = re.sub(r"\D", "", text)
            if before in "/." or before.isalnum() or len(digits) < 7:
                continue
            if re.fullmatch(r"(19|20)\d{2}\s*[-–]\s*(19|20)\d{2}", text):
                continue
            if not any(m.start < s + len(t) and s < m.end for s, t in found.items()):
                found[m.start] = text
    return sorted(found.items())


def phones(raw: str) -> list[str]:
    return [text for _, text in phone_spans(raw)]


def links(raw: str) -> list[str]:
    out = []
    for m in URL_RE.finditer(raw):
        url = m.group(0).rstrip(".)")
        if "@" in url:
            continue
        if url not in out:
            out.append(url)
    return out


def contact(header: list[Line], raw: str) -> dict[str, Any]:
    emails = EMAIL_RE.findall(raw)
    spans = phone_spans(raw)
    phone_list = [text for _, text in spans]
    first_email = EMAIL_RE.search(raw)
    if first_email is not None and spans:
        # a cover page or a referee brings other numbers: the candidate's is next to their e-mail
        spans.sort(key=lambda span: abs(span[0] - first_email.start()))
    link_list = links(raw)
    name = None
    location = None
    for line in header[:6]:
        text = line.text
        if name is None and _looks_like_name(text):
            name = text.strip()
            continue
        if location is None:
            cleaned = EMAIL_RE.sub(" ", URL_RE.sub(" ", text))
            for phone in phone_list:
                cleaned = cleaned.replace(phone, " ")
            m = LOCATION_RE.search(cleaned)
            if m:
                location = m.group(1)
    return {
        "name": name,
        "email": emails[0] if emails else None,
        "phone": spans[0][1] if spans else None,
        "links": link_list,
        "location": location,
    }


def _looks_like_name(text: str) -> bool:
    words = text.strip().split()
    if not 2 <= len(words) <= 4 or EMAIL_RE.search(text) or any(ch.isdigit() for ch in text):
        return False
    if norm_heading(text) in _HEADINGS:
        return False
    return all(re.fullmatch(r"[A-Z][A-Za-z'’.-]*|[A-Z]\.?", w) for w in words) or text.isupper()


# -- entries ------------------------------------------------------------------------------


def split_entries(lines: list[Line]) -> list[tuple[list[Line], list[Line]]]:
    """(header lines, bullet/description lines) per entry."""
    entries: list[tuple[list[Line], list[Line]]] = []
    head: list[Line] = []
    body: list[Line] = []
    for line in lines:
        if line.bullet:
            body.append(line)
            continue
        if body or (head and _starts_entry(line, head)):
            entries.append((head, body))
            head, body = [], []
        head.append(line)
    if head or body:
        entries.append((head, body))
    return [(h, b) for h, b in entries if h or b]


def _starts_entry(line: Line, head: list[Line]) -> bool:
    """A second header line that starts a new entry (an entry has one date range)."""
    has_range = any(find_range(h.text) for h in head)
    return has_range and find_range(line.text) is not None


def _parts(text: str) -> list[str]:
    return [p.strip(" ,;:()") for p in SEPARATORS.split(text) if p and p.strip(" ,;:()")]


def is_title(text: str) -> bool:
    words = {w.lower().strip(".,") for w in re.split(r"[\s/]+", text)}
    return bool(words & TITLE_WORDS)


def is_location(text: str) -> bool:
    t = text.strip()
    return bool(LOCATION_RE.fullmatch(t)) or t.lower() in {"remote", "hybrid", "on-site", "onsite"}


def experience(lines: list[Line]) -> list[dict[str, Any]]:
    out = []
    for head, body in split_entries(lines):
        header_text = " | ".join(h.text for h in head)
        start = end = None
        rng = find_range(header_text)
        if rng:
            start, end, (a, b) = rng
            header_text = header_text[:a] + " | " + header_text[b:]
        title = company = location = None
        state = STATE_LOCATION_RE.search(header_text)
        if state:
            location = state.group(1)
            header_text = header_text[: state.start()] + " | " + header_text[state.end() :]
        rest: list[str] = []
        for part in _parts(header_text):
            if location is None and is_location(part):
                location = part
            elif title is None and is_title(part):
                title = part
            else:
                rest.append(part)
        if rest:
            company = rest.pop(0)
        if title is None and rest:
            title = rest.pop(0)
        description = [b.text for b in body]
        out.append(
            {
                "title": title,
                "company": company,
                "location": location,
                "start": start,
                "end": end,
                "current": end == "present",
                "bullets": description,
            }
        )
    return out


def education(lines: list[Line]) -> list[dict[str, Any]]:
    out = []
    for head, body in split_entries(lines):
        text = " | ".join(h.text for h in head + body)
        start = end = None
        rng = find_range(text)
        if rng:
            start, end, (a, b) = rng
            text = text[:a] + " | " + text[b:]
        else:
            single = find_single(text)
            if single:
                end, (a, b) = single
                text = text[:a] + " | " + text[b:]
        degree = institution = None
        for part in _parts(text):
            if institution is None and INSTITUTION_RE.search(part):
                institution = part
            elif degree is None and DEGREE_RE.search(part):
                degree = part
        if degree is None and institution is None:
            continue
        out.append({"degree": degree, "institution": institution, "start": start, "end": end})
    return out


def skills_listed(lines: list[Line]) -> list[str]:
    items: list[str] = []
    for line in lines:
        text = line.text
        if ":" in text and len(text.split(":", 1)[0].split()) <= 4:
            text = text.split(":", 1)[1]
        for raw in re.split(r"[,;|•·]|\s{2,}", text):
            item = raw.strip(" .")
            if item and len(item) <= 60 and item not in items:
                items.append(item)
    return items


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

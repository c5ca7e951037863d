# ruff: noqa: RUF001  (resumes really use curly apostrophes in names)
"""The candidate's name, e-mail, phone, links and location from a resume's header.

Phones by Google's libphonenumber metadata (``phonenumbers``); a number labelled "Fax" is
never the phone, and the candidate's number is the first one of the contact block (near the
first e-mail address), so a referee's or a cover page's number is not taken. The name is the
largest name-shaped line (or cell) of the header, never "Curriculum Vitae" or a heading; a
design layout's name set as one word per line in a display size is joined (``split_name``).
"""

from __future__ import annotations

import functools
import itertools
import re
from typing import Any

from agents.resume.documents import Line
from agents.resume.vocabulary import HEADINGS, TITLE_WORDS, norm_heading

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
URL_RE = re.compile(
    r"(?:https?://|www\.)[^\s|,;<>]+|(?<![@\w.])(?:linkedin\.com|github\.com|gitlab\.com|"
    r"behance\.net|dribbble\.com|medium\.com|stackoverflow\.com)/[^\s|,;<>]+",
    re.IGNORECASE,
)
LOCATION_RE = re.compile(r"\b([A-Z][a-zA-Z]+(?: [A-Z][a-zA-Z]+)*, (?:[A-Z]{2}|[A-Z][a-z]+))\b")

#: Regions tried for numbers written without a country code (``+CC`` numbers parse anywhere).
PHONE_REGIONS = ("US", "GB", "IN", "DE", "FR", "AU")
#: How far (characters) from the first e-mail address the contact block reaches.
CONTACT_BLOCK = 400
_FAX = re.compile(r"fax\W{0,3}$", re.IGNORECASE)
NOT_NAMES = {
    "curriculum vitae",
    "resume",
    "résumé",
    "cv",
    "contact",
    "contacts",
    "personal information",
    "personal details",
    "personal data",
    "job applied for",
}


def phone_spans(raw: str) -> list[tuple[int, str]]:
    """(offset, text as written) of every phone number: valid ones in any region of
    :data:`PHONE_REGIONS`, and possible ones written with a ``+`` country code; years, GPAs,
    ids and fax numbers are not phones."""
    import phonenumbers

    found: dict[int, str] = {}
    regions = [*PHONE_REGIONS, *(r for r in regions_named(raw) if r not in PHONE_REGIONS)]
    passes = [(r, phonenumbers.Leniency.VALID) for r in regions]
    passes.append(("US", phonenumbers.Leniency.POSSIBLE))
    for region, leniency in passes:
        for m in phonenumbers.PhoneNumberMatcher(raw, region, leniency=leniency):
            text = m.raw_string.strip()
            if leniency == phonenumbers.Leniency.POSSIBLE and not text.lstrip("(").startswith("+"):
                continue
            before = raw[m.start - 1] if m.start > 0 else " "
            digits = re.sub(r"\D", "", text)
            if before in "/." or before.isalnum() or len(digits) < 7:
                continue
            if re.fullmatch(r"(19|20)\d{2}\s*[-–]\s*(19|20)\d{2}", text):
                continue
            if _FAX.search(raw[max(0, m.start - 8) : m.start]):
                continue
            if not any(m.start < s + len(t) and s < m.end for s, t in found.items()):
                found[m.start] = text
    return sorted(found.items())


@functools.cache
def _country_names() -> dict[str, str]:
    """English country name -> region, from libphonenumber's own geocoding data."""
    import phonenumbers
    from phonenumbers import geocoder

    out = {}
    for region in phonenumbers.SUPPORTED_REGIONS:
        example = phonenumbers.example_number(region)
        name = geocoder.country_name_for_number(example, "en") if example else ""
        if len(name) >= 4:
            out[name.lower()] = region
    return out


def regions_named(raw: str) -> list[str]:
    """Regions whose country the text names ("Alexandria, Egypt"): its national numbers."""
    low = raw.lower()
    return [r for name, r in _country_names().items() if re.search(rf"\b{re.escape(name)}\b", low)]


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


#: A number as written in a contact block (8-15 digits), for numbers in no numbering plan
#: libphonenumber knows (template resumes: "009-87654321").
LOOSE_PHONE = re.compile(r"(?<![\w/.])\+?\(?\d[\d ().-]{6,18}\d(?![\w/])")


def loose_phone(raw: str) -> str | None:
    """The first phone-shaped number of the contact block (the text's first 400 characters),
    when no valid number was found; never a date range or a year."""
    for m in LOOSE_PHONE.finditer(raw[:CONTACT_BLOCK]):
        text = m.group(0).strip()
        digits = re.sub(r"\D", "", text)
        if 8 <= len(digits) <= 15 and not re.search(
            r"(1[89]|20)\d\d\s*[-–]\s*(1[89]|20)\d\d", text
        ):
            return text
    return None


def candidate_phone(raw: str) -> str | None:
    spans = phone_spans(raw)
    if not spans:
        return loose_phone(raw)
    first_email = EMAIL_RE.search(raw)
    if first_email is None:
        return spans[0][1]
    at = first_email.start()
    block = [s for s in spans if abs(s[0] - at) <= CONTACT_BLOCK]
    if block:
        return block[0][1]
    return min(spans, key=lambda span: abs(span[0] - at))[1]


def contact(header: list[Line], raw: str) -> dict[str, Any]:
    emails = EMAIL_RE.findall(raw)
    phone_list = phones(raw)
    name = find_name(header)
    location = None
    for line in header[:8]:
        if location is not None:
            break
        cleaned = EMAIL_RE.sub(" ", URL_RE.sub(" ", line.text))
        for phone in phone_list:
            cleaned = cleaned.replace(phone, " ")
        m = LOCATION_RE.search(cleaned)
        if m and m.group(1) != name:
            location = m.group(1)
    return {
        "name": name,
        "email": emails[0] if emails else None,
        "phone": candidate_phone(raw),
        "links": links(raw),
        "location": location,
    }


def find_name(header: list[Line]) -> str | None:
    """The largest name-shaped line or cell among the header's first lines."""
    labelled = labelled_name(header)
    if labelled is not None:
        return labelled
    best: tuple[float, int, str] | None = None
    for i, line in enumerate(header[:12]):
        for cell in line.parts():
            part = _unlabelled(cell)
            if looks_like_name(part):
                key = (line.size or 0.0, -i, part.strip())
                if best is None or key[:2] > best[:2]:
                    best = key
    split = split_name(header)
    if split is not None and (best is None or split[:2] > best[:2]):
        best = split
    return best[2] if best else None


def labelled_name(lines: list[Line]) -> str | None:
    """A label column's name ("Name / Surname | Pythagoras") among the first 20 lines; also
    looked for in the first section when the header has no name ("About me" above a table)."""
    for line in lines[:20]:
        cells = line.parts()
        for label, value in itertools.pairwise(cells):
            if norm_heading(label) in NAME_LABELS and 1 <= len(value.split()) <= 4:
                return value.strip()
    return None


#: How close (pt) two lines' sizes are to count as one font size.
SAME_SIZE = 0.5
#: Private-use code points: icon fonts and glyphs without a Unicode mapping (not text).
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
_NAME_WORD = re.compile(r"[A-Z][a-z'’-]+|[A-Z][A-Z'’-]+")


def split_name(header: list[Line]) -> tuple[float, int, str] | None:
    """A name a design layout sets as two words on two lines ("Jules" / "Verne"): two
    consecutive single capitalised words, on consecutive lines of the header's top, in the
    header's largest font size (larger than the body's), neither a heading or a contact label.
    Cells of icons or of glyphs without Unicode text between them are skipped."""
    top = header[:6]
    sizes = [line.size for line in header[:12] if line.size]
    if len(sizes) < 2 or not top:
        return None
    largest = max(sizes)
    if largest < min(sizes) + 2 * SAME_SIZE:  # no display size: one font for everything
        return None
    cells = [
        (i, cell.strip())
        for i, line in enumerate(top)
        if line.size and line.size >= largest - SAME_SIZE
        for cell in line.parts()
        if cell.strip() and not _PRIVATE_USE.search(cell)
    ]
    for (i, first), (j, second) in itertools.pairwise(cells):
        if j != i + 1 or not all(_name_word(w) for w in (first, second)):
            continue
        return (largest, -i, f"{first} {second}")
    return None


def _name_word(word: str) -> bool:
    low = word.lower()
    return (
        bool(_NAME_WORD.fullmatch(word))
        and norm_heading(word) not in HEADINGS
        and low not in NOT_NAMES
        and low not in NOT_NAME_WORDS
        and low not in TITLE_WORDS
    )


NAME_LABELS = {"name", "name  surname", "name surname", "full name", "surname name", "nom"}
NOT_NAME_WORDS = {"address", "street", "road", "avenue", "email", "phone", "page", "information"}


def _unlabelled(text: str) -> str:
    """ "PERSONAL INFORMATION Katie Smith" -> "Katie Smith"."""
    low = text.strip().lower()
    for label in NOT_NAMES | {"name", "name / surname", "name:"}:
        if low.startswith(label + " "):
            return text.strip()[len(label) :].strip(" :")
    return text


def looks_like_name(text: str) -> bool:
    words = text.strip().split()
    if not 2 <= len(words) <= 4 or EMAIL_RE.search(text) or any(ch.isdigit() for ch in text):
        return False
    key = norm_heading(text)
    if key in HEADINGS or key in NOT_NAMES or text.strip().lower() in NOT_NAMES:
        return False
    if {w.lower().strip(".,:") for w in words} & NOT_NAME_WORDS:
        return False
    return all(re.fullmatch(r"[A-Z][A-Za-z'’.-]*|[A-Z]\.?", w) for w in words) or text.isupper()

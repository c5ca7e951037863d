"""Resume text lines -> sections (pure functions); contact and entries in their modules.

Headings are recognised from a vocabulary of section names (``vocabulary.py``: exact, or
short lines that start with one and are set in capitals, bold or a larger font, or a
heading in the left margin on the content's line). The contact block is parsed in
``contact.py``, experience/education/project entries in ``entries.py``; their functions are
re-exported here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agents.resume.contact import EMAIL_RE, URL_RE, contact, links, phone_spans, phones
from agents.resume.documents import Line
from agents.resume.entries import (
    education,
    experience,
    is_location,
    is_title,
    projects,
    split_entries,
)
from agents.resume.vocabulary import (
    DEGREE_RE,
    HEADINGS,
    INSTITUTION_RE,
    SECTIONS,
    TITLE_WORDS,
    norm_heading,
)

__all__ = [
    "DEGREE_RE",
    "EMAIL_RE",
    "INSTITUTION_RE",
    "SECTIONS",
    "TITLE_WORDS",
    "URL_RE",
    "Sections",
    "contact",
    "education",
    "experience",
    "heading_of",
    "is_location",
    "is_title",
    "links",
    "phone_spans",
    "phones",
    "projects",
    "skills_listed",
    "split_entries",
    "split_sections",
]
_HEADINGS = HEADINGS


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

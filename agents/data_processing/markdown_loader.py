"""Plain text and Markdown. Markdown is split at ATX/setext headings (never inside code
fences or front matter); segments are slices of the source, so offsets are exact in it."""

from __future__ import annotations

import re

from agents.data_processing.formats import normalise
from agents.data_processing.model import Segment

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")


def load_text(text: str) -> list[Segment]:
    text = normalise(text)
    return [Segment(text, 0)] if text.strip() else []


def load_markdown(text: str) -> list[Segment]:  # noqa: PLR0912 - one pass, one branch per block kind
    """Sections of a Markdown text, each with its heading path."""
    text = normalise(text)
    lines = text.split("\n")
    starts: list[int] = []
    pos = 0
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    # (line index where a section starts, level, title)
    cuts: list[tuple[int, int, str]] = []
    fence: str | None = None
    i = 0
    if lines and lines[0].strip() == "---":  # YAML front matter: not content
        for j in range(1, len(lines)):
            if lines[j].strip() in ("---", "..."):
                i = j + 1
                break
    body_start = i
    while i < len(lines):
        line = lines[i]
        m = _FENCE.match(line)
        if fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
        elif m:
            fence = m.group(1)
        elif (h := _ATX.match(line)) is not None:
            cuts.append((i, len(h.group(1)), (h.group(2) or "").strip()))
        elif (
            i + 1 < len(lines)
            and line.strip()
            and not line.startswith((" " * 4, "\t", "-", "*", "+", ">", "|"))
            and (s := _SETEXT.match(lines[i + 1])) is not None
            and (i == 0 or not lines[i - 1].strip())
        ):
            cuts.append((i, 1 if s.group(1)[0] == "=" else 2, line.strip()))
            i += 1
        i += 1
    if not cuts or cuts[0][0] != body_start:
        cuts.insert(0, (body_start, 0, ""))
    bounds = cuts
    segments: list[Segment] = []
    stack: list[tuple[int, str]] = []
    for n, (line_no, level, title) in enumerate(bounds):
        if level:
            while stack and stack[-1][0] >= level:
                stack.pop()
            if title:
                stack.append((level, title))
        start = starts[line_no]
        end = starts[bounds[n + 1][0]] if n + 1 < len(bounds) else len(text)
        body = text[start:end]
        stripped = body.strip()
        if not stripped:
            continue
        lead = len(body) - len(body.lstrip())
        segments.append(Segment(stripped, start + lead, None, tuple(h for _, h in stack)))
    return segments

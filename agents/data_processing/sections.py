"""Build a document's segments (heading sections) with offsets into its full text."""

from __future__ import annotations

from agents.data_processing.model import Segment
from enginedge_streams.documents.text import fold

SEPARATOR = "\n\n"


class SectionBuilder:
    """Collects blocks under a heading path; each heading starts a new segment.

    The document's full text is the segments joined by a blank line, so a
    segment's ``offset`` is exact in that text.
    """

    def __init__(self, page: int | None = None) -> None:
        self.page = page
        self.segments: list[Segment] = []
        self.stack: list[tuple[int, str]] = []  # (level, heading)
        self.blocks: list[str] = []
        self.offset = 0

    @property
    def headings(self) -> tuple[str, ...]:
        return tuple(h for _, h in self.stack)

    def heading(self, level: int, text: str) -> None:
        text = " ".join(fold(text).split())
        if not text:
            return
        self.flush()
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.stack.append((level, text))
        self.blocks.append(text)

    def block(self, text: str) -> None:
        text = fold(text).strip("\n")
        if text.strip():
            self.blocks.append(text)

    def flush(self) -> None:
        if not self.blocks:
            return
        body = SEPARATOR.join(self.blocks)
        self.blocks = []
        if self.segments:
            self.offset += len(SEPARATOR)
        self.segments.append(Segment(body, self.offset, self.page, self.headings))
        self.offset += len(body)

    def finish(self) -> list[Segment]:
        self.flush()
        return self.segments


def full_text(segments: list[Segment]) -> str:
    return SEPARATOR.join(s.text for s in segments)

"""Formats partitioned by `unstructured` (offline, see enginedge_streams.documents.partition).

Element types become the chunk structure: a ``Title`` starts a heading section
(its ``category_depth`` is the level), a ``ListItem`` is a ``- `` line, a
``Table`` keeps one ``a | b`` line per row; everything else is a paragraph.
Chunks never cross a section, so each carries its heading path.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from agents.data_processing.model import Segment
from agents.data_processing.sections import SectionBuilder
from enginedge_streams.documents.partition import Block, partition

MAX_HEADING_CHARS = 200  # a "Title" longer than this is a paragraph unstructured misread


def segments_from_blocks(blocks: list[Block]) -> tuple[list[Segment], str | None, dict[str, Any]]:
    """(segments, title, info): info counts the element categories seen."""
    out = SectionBuilder()
    title: str | None = None
    for block in blocks:
        if block.category == "Title" and len(block.text) <= MAX_HEADING_CHARS:
            level = (block.depth or 0) + 1
            out.heading(level, block.text)
            title = title or block.text
        elif block.category == "ListItem":
            out.block(f"- {block.text}")
        else:
            out.block(block.text)
    info = {"partitioner": "unstructured", "elements": dict(Counter(b.category for b in blocks))}
    return out.finish(), title, info


def load_unstructured(
    fmt: str, data: bytes | str
) -> tuple[list[Segment], str | None, dict[str, Any]]:
    return segments_from_blocks(partition(fmt, data))

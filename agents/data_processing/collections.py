"""What every vector store computes the same way for `collection.list` / `collection.stats`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from agents.data_processing.model import CollectionInfo


async def stats_of(
    names: Iterable[str], stats: Callable[[str], Awaitable[CollectionInfo | None]]
) -> list[CollectionInfo]:
    """Each named collection's stats, in the given order, skipping ones now gone."""
    out = []
    for name in names:
        info = await stats(name)
        if info is not None:
            out.append(info)
    return out


def info_from_records(
    collection: str, records: list[dict[str, Any]], dimension: int | None
) -> CollectionInfo | None:
    """Stats from the stored document records (``DocumentRecord.to_dict()`` form)."""
    if not records:
        return None
    formats = Counter(str(r["format"]) for r in records)
    return CollectionInfo(
        name=collection,
        documents=len(records),
        chunks=sum(int(r["chunk_count"]) for r in records),
        dimension=dimension,
        bytes=sum(int(r["bytes"]) for r in records),
        ocr_pages=sum(int(r["ocr_pages"]) for r in records),
        formats=dict(sorted(formats.items())),
    )

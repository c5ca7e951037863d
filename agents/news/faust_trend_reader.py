"""The ``TrendReader`` port over the tumbling trend tables of ``tables/news.py``.

Sums buckets for ``news.trending`` by scanning the window table (the scan reads every
locally assigned partition; like the other stateful workers, one replica owns them all).
"""

from __future__ import annotations

from typing import Any

from agents.news.ports import BucketCounts
from agents.news.trending import WINDOWS


class FaustTrendReader:
    def __init__(self, tables: dict[str, Any]) -> None:
        self.tables = tables

    def bucket_seconds(self, window: str) -> int:
        return WINDOWS[window][1]

    def totals(self, window: str, start: float, end: float) -> BucketCounts:
        out = BucketCounts()
        # Read the store itself: ``Table.items()`` looks each value up again through
        # ``__getitem__``, which inside a command reads the *command's* partition and, with a
        # default, would even write an empty value there.
        store = self.tables[window].table.data
        for raw_key, value in store.items():
            try:
                key, (bucket_start, _bucket_end) = raw_key
            except (TypeError, ValueError):
                continue
            if not (start <= float(bucket_start) < end) or not value:
                continue
            out.counts[key] = out.counts.get(key, 0) + int(value.get("n", 0))
            out.display.setdefault(key, str(value.get("d") or key))
        return out

"""The news worker's tables.

* ``news-state``: feeds, articles, exact-duplicate indexes and MinHash
  signatures — RocksDB-backed and key-partitioned (``tables/kv.py``); the key
  layout is documented in ``agents/news/repository.py``.
* ``news-trend-1h`` / ``-24h`` / ``-7d``: Faust **tumbling windowed tables**
  counting mentions of entities and keywords per 5-minute / 1-hour / 6-hour
  bucket, kept for two windows (current and previous) plus one bucket. They
  are written only by the mention agent, which consumes
  ``worker.news.mentions`` keyed by the term, so each term's counts live in
  the partition of its key (stream and table keyed consistently). A mention
  is counted at its article's publication time (the message timestamp).

:class:`FaustTrendReader` sums buckets for ``news.trending`` by scanning the
window table (the scan reads every locally assigned partition; like the
other stateful workers, one replica owns them all).
"""

from __future__ import annotations

from typing import Any

import faust

from agents.news.ports import BucketCounts
from agents.news.trending import WINDOWS
from tables.kv import FaustKeyValueStore, create_kv_table

TABLE_NAME = "news-state"


def create_news_table(app: faust.App, *, partitions: int) -> Any:
    return create_kv_table(
        app,
        TABLE_NAME,
        partitions=partitions,
        help_text="News state: feeds and poll status, articles, URL/content indexes, signatures.",
    )


def news_store(table: Any) -> FaustKeyValueStore:
    return FaustKeyValueStore(table)


def create_trend_tables(app: faust.App, *, partitions: int) -> dict[str, Any]:
    """window -> tumbling windowed table of ``{"n": count, "d": display}`` per term key."""
    tables: dict[str, Any] = {}
    for window, (size, bucket) in WINDOWS.items():
        table = app.Table(
            f"news-trend-{window}",
            default=dict,
            partitions=partitions,
            help=f"Mentions per term in {bucket}s tumbling buckets (news.trending {window}).",
        )
        tables[window] = table.tumbling(bucket, expires=2 * size + bucket)
    return tables


def add_mention(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """Window operation: add a mention count, keep the first display form."""
    if not old:
        return {"n": int(new["n"]), "d": new["d"]}
    return {"n": int(old.get("n", 0)) + int(new["n"]), "d": old.get("d") or new["d"]}


def count_mention(tables: dict[str, Any], key: str, display: str) -> None:
    """Called by the mention agent for one mention (inside stream iteration)."""
    for table in tables.values():
        table[key].apply(add_mention, {"n": 1, "d": display})


class FaustTrendReader:
    """The ``TrendReader`` port over the tumbling tables."""

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

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

The windows (name -> (size, bucket) seconds) are the news worker's
(``agents/news/trending.py``), passed in; ``agents/news/faust_trend_reader.py``
reads these tables for ``news.trending``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import faust

from tables.kv import create_kv_table

TABLE_NAME = "news-state"


def create_news_table(app: faust.App, *, partitions: int) -> Any:
    return create_kv_table(
        app,
        TABLE_NAME,
        partitions=partitions,
        help_text="News state: feeds and poll status, articles, URL/content indexes, signatures.",
    )


def create_trend_tables(
    app: faust.App, windows: Mapping[str, tuple[int, int]], *, partitions: int
) -> dict[str, Any]:
    """window -> tumbling windowed table of ``{"n": count, "d": display}`` per term key;
    ``windows``: name -> (window size, bucket) in seconds."""
    tables: dict[str, Any] = {}
    for window, (size, bucket) in windows.items():
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

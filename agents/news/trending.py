"""Trending: which entities and keywords grow fastest against the previous window.

Mentions are counted in tumbling buckets (Faust windowed tables in
production): 5-minute buckets for the 1h view, hourly for 24h, 6-hourly for
7d. A window is the last ``size/bucket`` buckets up to and including the
current one; the previous window is the same number of buckets before it.
A term's score is ``(current - previous) / sqrt(previous + 1)`` — how far the
current count is above the previous one in units of its Poisson noise — so
a burst from nothing ranks high and a term that was already frequent needs a
proportionally larger rise. Terms below the minimum count, or not growing,
are not trending.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from agents.news.ports import BucketCounts, TrendReader

#: window -> (size seconds, bucket seconds)
WINDOWS: dict[str, tuple[int, int]] = {
    "1h": (3600, 300),
    "24h": (86_400, 3600),
    "7d": (604_800, 21_600),
}
KINDS = {"organization": "organizations", "person": "people", "place": "places"}


def window_bounds(window: str, now_ts: float) -> tuple[float, float, float]:
    """(previous start, current start, current end) aligned to buckets."""
    size, bucket = WINDOWS[window]
    end = (math.floor(now_ts / bucket) + 1) * bucket
    return end - 2 * size, end - size, end


def score(current: int, previous: int) -> float:
    return (current - previous) / math.sqrt(previous + 1)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat()


def rank(
    cur: BucketCounts, prev: BucketCounts, *, limit: int, min_count: int
) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {
        "entities": [],
        "organizations": [],
        "people": [],
        "places": [],
        "keywords": [],
    }
    for key, c in cur.counts.items():
        p = prev.counts.get(key, 0)
        if c < min_count or c <= p:
            continue
        kind = key.split(":", 1)[0]
        item = {
            "term": cur.display.get(key) or key.split(":", 1)[1],
            "kind": kind,
            "current": c,
            "previous": p,
            "growth": round(c / p, 3) if p else None,
            "score": round(score(c, p), 4),
        }
        if kind in KINDS:
            groups[KINDS[kind]].append(item)
            groups["entities"].append(item)
        elif kind == "keyword":
            groups["keywords"].append(item)
    for name, items in groups.items():
        items.sort(key=lambda i: (-i["score"], -i["current"], i["term"].lower()))
        groups[name] = items[:limit]
    return groups


def trending(
    reader: TrendReader, window: str, now: datetime, *, limit: int, min_count: int
) -> dict[str, Any]:
    prev_start, cur_start, end = window_bounds(window, now.timestamp())
    cur = reader.totals(window, cur_start, end)
    prev = reader.totals(window, prev_start, cur_start)
    return {
        "window": window,
        "as_of": now.astimezone(UTC).isoformat(),
        "bucket_seconds": WINDOWS[window][1],
        "current": {
            "start": _iso(cur_start),
            "end": _iso(end),
            "mentions": sum(cur.counts.values()),
        },
        "previous": {
            "start": _iso(prev_start),
            "end": _iso(cur_start),
            "mentions": sum(prev.counts.values()),
        },
        **rank(cur, prev, limit=limit, min_count=min_count),
    }

"""Ports of the news worker: enrichment, its streams, trends.

Its state, HTTP, clock and timer commands are the platform's ``KeyValueStore``,
``HttpFetcher``, ``Clock`` and ``CommandSender`` (``enginedge_streams.ports``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from agents.news.model import Article, Enrichment


class Enricher(Protocol):
    """Entities, keywords and (when the feed gives none) a category for an article."""

    async def enrich(self, title: str, text: str, *, category: str | None) -> Enrichment: ...


@dataclass(frozen=True)
class Mention:
    """One term of an article, counted in the trend windows at the article's time."""

    kind: str  # organization | person | place | keyword
    term: str  # display form
    article_id: str
    at: datetime

    @property
    def key(self) -> str:
        return f"{self.kind}:{' '.join(self.term.lower().split())}"


class NewsEvents(Protocol):
    """The articles stream and the mention stream the trend tables count."""

    async def article_ingested(self, article: Article) -> None: ...

    async def mentions(self, mentions: list[Mention]) -> None: ...


@dataclass
class BucketCounts:
    """Mention counts per term key, summed over a range of buckets."""

    counts: dict[str, int] = field(default_factory=dict)
    display: dict[str, str] = field(default_factory=dict)


class TrendReader(Protocol):
    """Reads the windowed mention counts (Faust tumbling tables in production)."""

    def bucket_seconds(self, window: str) -> int: ...

    def totals(self, window: str, start: float, end: float) -> BucketCounts:
        """Sum of every bucket whose start is in ``[start, end)``."""
        ...

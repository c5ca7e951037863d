"""Ports of the news worker (its state, HTTP, NLP, streams, trends, clock)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from agents.news.model import Article, Enrichment


class KeyValueStore(Protocol):
    """Durable state (a RocksDB Faust table in production). Writes only inside a command."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, value: bytes) -> None: ...

    def delete(self, key: str) -> None: ...

    def keys(self, prefix: str) -> list[str]: ...

    def scan(self, prefix: str) -> Iterator[tuple[str, bytes]]: ...


class FetchedResponse(Protocol):
    status: int
    headers: dict[str, str]
    body: bytes
    url: str
    redirects: list[str]


class HttpFetcher(Protocol):
    """Outbound HTTP under the platform's safe policy (``SafeHttpClient``)."""

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        max_bytes: int | None = None,
    ) -> Any: ...


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


class Clock(Protocol):
    def now(self) -> datetime: ...


class CommandSender(Protocol):
    """Sends a command to this worker's own requests topic (used by the polling timer)."""

    async def send(
        self, command_id: str, command_type: str, payload: Mapping[str, Any]
    ) -> None: ...

"""Deterministic in-memory adapters for the news worker's own ports (unit tests, benchmarks);
the shared ports' fakes are in ``enginedge_streams.testing``."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict

from agents.news.enrich import clean_keywords, entities_from_spans
from agents.news.model import Article, Enrichment
from agents.news.ports import BucketCounts, Mention
from agents.news.trending import WINDOWS


class InMemoryTrends:
    """Tumbling buckets per window, like the Faust windowed tables (``TrendReader``)."""

    def __init__(self) -> None:
        self.buckets: dict[str, dict[float, Counter[str]]] = {
            w: defaultdict(Counter) for w in WINDOWS
        }
        self.display: dict[str, str] = {}
        self.generation = 0

    def record(self, mentions: list[Mention]) -> None:
        for m in mentions:
            ts = m.at.timestamp()
            for window, (_, bucket) in WINDOWS.items():
                self.buckets[window][math.floor(ts / bucket) * bucket][m.key] += 1
            self.display.setdefault(m.key, m.term)
        self.generation += 1

    def bucket_seconds(self, window: str) -> int:
        return WINDOWS[window][1]

    def totals(self, window: str, start: float, end: float) -> BucketCounts:
        out = BucketCounts()
        for bucket_start, counter in self.buckets[window].items():
            if start <= bucket_start < end:
                for key, n in counter.items():
                    out.counts[key] = out.counts.get(key, 0) + n
                    out.display.setdefault(key, self.display[key])
        return out


class RecordingEvents:
    """``NewsEvents`` that records articles and counts mentions in ``InMemoryTrends``."""

    def __init__(self, trends: InMemoryTrends | None = None) -> None:
        self.articles: list[Article] = []
        self.mention_batches: list[list[Mention]] = []
        self.trends = trends

    async def article_ingested(self, article: Article) -> None:
        self.articles.append(article)

    async def mentions(self, mentions: list[Mention]) -> None:
        self.mention_batches.append(mentions)
        if self.trends is not None:
            self.trends.record(mentions)


class FakeEnricher:
    """Entities from a gazetteer (exact, case-sensitive phrase matches), keywords = most
    frequent capitalised or long words; the category from the feed or a keyword vote."""

    def __init__(
        self,
        gazetteer: dict[str, str] | None = None,
        *,
        categories: dict[str, list[str]] | None = None,
        fail: Exception | None = None,
    ) -> None:
        self.gazetteer = gazetteer or {}
        self.categories = categories or {}
        self.fail = fail
        self.calls: list[str] = []

    async def enrich(self, title: str, text: str, *, category: str | None) -> Enrichment:
        self.calls.append(title)
        if self.fail is not None:
            raise self.fail
        body = f"{title}\n{text}"
        spans: list[tuple[int, str, str]] = []
        for name, label in self.gazetteer.items():
            for m in re.finditer(re.escape(name), body):
                spans.append((m.start(), name, label))
        spans.sort()
        entities = entities_from_spans((name, label) for _, name, label in spans)
        counts = Counter(w.lower() for w in re.findall(r"[A-Za-z]{6,}", body))
        keywords = clean_keywords(w for w, _ in counts.most_common(5))
        if category is not None:
            return Enrichment(
                entities=entities, keywords=keywords, category=category, category_source="feed"
            )
        votes = {c: sum(counts[k] for k in kws) for c, kws in self.categories.items()}
        best = max(sorted(votes), key=lambda c: votes[c]) if votes else None
        return Enrichment(
            entities=entities,
            keywords=keywords,
            category=best,
            category_source="classifier" if best else "none",
        )

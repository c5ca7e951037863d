"""The ingest pipeline of one fetched feed: normalise, fetch full text, de-duplicate,
enrich, store and emit its articles.

Plain async code over ports; :class:`~agents.news.poller.FeedPoller` (fetching,
conditional GET and backoff) hands it each parsed feed. Table writes happen only
here and in the poller, i.e. while a command is processed. The final
de-duplication check and every write for an article happen in one stretch
without ``await``, so two polls running concurrently cannot both store the
same story.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from agents.news import compute as steps
from agents.news.model import Article, DuplicateLink, Enrichment, Feed
from agents.news.normalize import (
    article_id_for,
    canonical_url,
    clean_title,
    host_of,
    language_tag,
    published_time,
    url_key,
)
from agents.news.parsing import ParsedFeed, RawEntry, has_text
from agents.news.ports import Enricher, Mention, NewsEvents
from agents.news.repository import NewsRepository
from agents.news.state import NewsState
from enginedge_streams.errors import EnginEdgeError
from enginedge_streams.ports.clock import Clock
from enginedge_streams.ports.compute_pool import ComputePool
from enginedge_streams.ports.rate_limiter import RateLimiter
from enginedge_streams.safe_http import HttpResponse

log = logging.getLogger("enginedge.news.ingest")
TREND_HORIZON = timedelta(days=15)  # older articles are outside every trend window

#: Why an entry of a feed was not stored (the poll result's ``skipped`` counts by reason).
#: Every entry feedparser yields is either stored (``new_articles``) or counted here.
SKIP_REASONS = (
    "no_link",  # the entry has no link (nothing to identify or open it by)
    "no_text",  # no title, summary or content
    "over_limit",  # beyond NEWS_MAX_ENTRIES_PER_FEED (the newest are kept)
    "repeated_in_feed",  # the same canonical URL earlier in the same document
    "known",  # already stored by an earlier poll
    "duplicate_url",  # its URL leads to an article stored meanwhile
    "duplicate_content",  # the same words as a stored article
    "near_duplicate",  # a near-copy (MinHash) of a recent article
    "retry_later",  # its duplicate vanished during the poll: the next poll stores it
)
_KIND_REASON = {"url": "duplicate_url", "content": "duplicate_content", "near": "near_duplicate"}

#: ``(api, url, headers) -> response``: the poller's fetch (counted in the worker's metrics)
Fetch = Callable[[str, str, dict[str, str] | None], Awaitable[HttpResponse]]


@dataclass(frozen=True)
class IngestConfig:
    max_feed_bytes: int = 5_000_000
    max_entries: int = 200
    fulltext_min_chars: int = 600
    fulltext_concurrency: int = 4
    max_article_chars: int = 100_000
    host_rate_per_minute: int = 30
    backoff_max_seconds: int = 21_600


@dataclass
class Draft:
    entry: RawEntry
    url: str
    article_id: str
    title: str
    summary: str
    text: str
    text_source: str
    published_at: datetime
    estimated: bool
    language: str | None
    tags: list[str]
    content_hash: str = ""
    sig: Any = None
    duplicate_of: tuple[str, float, str] | None = None  # (article id, similarity, kind)
    enrichment: Enrichment | None = None


@dataclass
class PollReport:
    status: str
    feed_id: str
    entries: int = 0
    new: list[str] = field(default_factory=list)
    duplicates: int = 0
    known: int = 0
    http_status: int | None = None
    malformed: bool = False
    problem: str | None = None
    retry_after: float | None = None
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str, n: int = 1) -> None:
        if n > 0:
            self.skipped[reason] = self.skipped.get(reason, 0) + n

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "feed_id": self.feed_id,
            "entries": self.entries,
            "new_articles": len(self.new),
            "article_ids": self.new,
            "duplicates": self.duplicates,
            "known": self.known,
            "http_status": self.http_status,
            "malformed": self.malformed,
            "problem": self.problem,
            "retry_after": self.retry_after,
            "skipped": dict(sorted(self.skipped.items())),
        }


class ArticleIngester:
    """Turns the entries of one parsed feed into stored, enriched, emitted articles."""

    def __init__(
        self,
        *,
        repo: NewsRepository,
        limiter: RateLimiter,
        enricher: Enricher,
        events: NewsEvents,
        state: NewsState,
        clock: Clock,
        config: IngestConfig,
        fetch: Fetch,
        compute: ComputePool,
    ) -> None:
        self.repo = repo
        self.limiter = limiter
        self.enricher = enricher
        self.events = events
        self.state = state
        self.clock = clock
        self.config = config
        self.fetch = fetch
        self.compute = compute

    async def ingest(
        self, feed: Feed, parsed: ParsedFeed, texts: list[tuple[str, str]], now: datetime
    ) -> PollReport:
        report = PollReport("ok", feed.feed_id, entries=len(parsed.entries))
        text_of = {id(e): t for e, t in zip(parsed.entries, texts, strict=True)}
        report.malformed, report.problem = parsed.malformed, parsed.problem
        drafts: list[Draft] = []
        seen: set[str] = set()
        entries = sorted(_usable(parsed, report), key=lambda e: e.published or (), reverse=True)
        report.skip("over_limit", len(entries) - self.config.max_entries)
        for entry in entries[: self.config.max_entries]:
            url = canonical_url(entry.link)
            if url in seen:
                report.skip("repeated_in_feed")
                continue
            seen.add(url)
            existing = self.repo.by_url(url_key(url))
            if existing is not None and self.repo.has_article(existing):
                report.known += 1
                report.skip("known")
                await self._re_emit_if_needed(existing)
                continue
            drafts.append(self._draft(feed, parsed, entry, text_of[id(entry)], url=url, now=now))
        sem = asyncio.Semaphore(self.config.fulltext_concurrency)
        await asyncio.gather(*(self._full_text(d, sem) for d in drafts))
        await self._finish_drafts(drafts)
        for d in drafts:
            d.duplicate_of = self._find_duplicate(d)
        to_enrich = [d for d in drafts if d.duplicate_of is None]
        enrichments = await asyncio.gather(
            *(self.enricher.enrich(d.title, d.text, category=feed.category) for d in to_enrich)
        )
        for d, e in zip(to_enrich, enrichments, strict=True):
            d.enrichment = e
        # ---- no await from here until every article is stored ----
        stored: list[Article] = []
        for d in drafts:
            match = self._find_duplicate(d)  # again: the state may have changed meanwhile
            if match is not None:
                self._link_duplicate(feed, d, match)
                report.duplicates += 1
                report.skip(_KIND_REASON[match[2]])
            elif d.enrichment is not None:
                stored.append(self._store(feed, parsed, d, now))
            else:  # was a duplicate, now is not (its original vanished): next poll retries it
                report.skip("retry_later")
        # ------------------------------------------------------------
        for article in stored:
            await self._emit(article)
            report.new.append(article.article_id)
        return report

    def _draft(
        self,
        feed: Feed,
        parsed: ParsedFeed,
        e: RawEntry,
        texts: tuple[str, str],
        *,
        url: str,
        now: datetime,
    ) -> Draft:
        title = clean_title(e.title, is_html=e.title_html) or "(untitled)"
        summary, content = texts  # HTML to text, done in the parse step
        text = content if len(content) >= len(summary) else summary
        published, estimated = published_time(e.published, now)
        tags = list(dict.fromkeys([t.lower() for t in e.tags] + feed.tags))[:20]
        return Draft(
            entry=e,
            url=url,
            article_id=article_id_for(url),
            title=title[:500],
            summary=summary[:2000] or text[:300],
            text=text,
            text_source="feed" if content else "summary",
            published_at=published,
            estimated=estimated,
            language=language_tag(e.language) or language_tag(parsed.language),
            tags=tags,
        )

    async def _full_text(self, d: Draft, sem: asyncio.Semaphore) -> None:
        min_chars = self.config.fulltext_min_chars
        if min_chars <= 0 or len(d.text) >= min_chars:
            return
        async with sem:
            decision = await self.limiter.acquire(
                f"news:host:{host_of(d.entry.link)}",
                limit=self.config.host_rate_per_minute,
                window_seconds=60,
            )
            if not decision.allowed:
                return  # keep the summary; the host's budget is spent
            try:
                resp = await self.fetch("article_page", d.entry.link, None)
            except EnginEdgeError as exc:
                log.info("article page %s not fetched: %s", d.entry.link, exc.code)
                return
            if resp.status != 200 or "html" not in resp.headers.get("content-type", "html"):
                return
            page = await self.compute.run(steps.extract_page_step, resp.text(), resp.url)
        if len(page.text) > len(d.text):
            d.text, d.text_source = page.text, "page"
            d.language = d.language or language_tag(page.language)

    async def _finish_drafts(self, drafts: list[Draft]) -> None:
        """Final text, content hash, language and MinHash signature of each draft (one step)."""
        if not drafts:
            return
        near = self.state.near
        prints = await self.compute.run(
            steps.fingerprint_step,
            [(d.title, d.text, d.language) for d in drafts],
            self.config.max_article_chars,
            near.num_perm,
        )
        for d, fp in zip(drafts, prints, strict=True):
            d.text, d.content_hash, d.language = fp.text, fp.content_hash, fp.language
            d.sig = near.from_bytes(fp.signature) if fp.signature is not None else None

    def _find_duplicate(self, d: Draft) -> tuple[str, float, str] | None:
        by_url = self.repo.by_url(url_key(d.url))
        if by_url is not None and self.repo.has_article(by_url):
            return by_url, 1.0, "url"
        by_hash = self.repo.by_hash(d.content_hash)
        if by_hash is not None and self.repo.has_article(by_hash):
            return by_hash, 1.0, "content"
        if d.sig is not None:
            match = self.state.near.best_match(d.sig)
            if match is not None:
                return match.article_id, match.similarity, "near"
        return None

    def _link_duplicate(self, feed: Feed, d: Draft, match: tuple[str, float, str]) -> None:
        original_id, similarity, kind = match
        self.repo.link_url(url_key(d.url), original_id)
        if self.repo.by_hash(d.content_hash) is None:
            self.repo.link_hash(d.content_hash, original_id)
        original = self.repo.article(original_id)
        if original is None or any(link.url == d.url for link in original.duplicates):
            return
        if original.url == d.url:
            return
        original.duplicates.append(
            DuplicateLink(
                url=d.url,
                feed_id=feed.feed_id,
                source=feed.name or feed.state.feed_title or host_of(d.url),
                title=d.title,
                similarity=similarity,
                kind=kind,
                seen_at=self.clock.now(),
                content_hash=d.content_hash,
            )
        )
        self.repo.save_article(original)
        self.state.index.upsert(original)

    def _store(self, feed: Feed, parsed: ParsedFeed, d: Draft, now: datetime) -> Article:
        assert d.enrichment is not None
        article = Article(
            article_id=d.article_id,
            url=d.url,
            original_url=d.entry.link,
            title=d.title,
            summary=d.summary,
            text=d.text,
            text_source=d.text_source,
            published_at=d.published_at,
            published_estimated=d.estimated,
            fetched_at=now,
            language=d.language or "und",
            source=feed.name or parsed.title or host_of(feed.url),
            source_domain=host_of(d.url),
            feed_id=feed.feed_id,
            author=d.entry.author,
            tags=d.tags,
            content_hash=d.content_hash,
            enrichment=d.enrichment,
        )
        self.repo.save_article(article)
        self.repo.link_url(url_key(d.url), article.article_id)
        self.repo.link_hash(d.content_hash, article.article_id)
        ts = article.published_at.timestamp()
        if d.sig is not None:
            self.repo.save_signature(article.article_id, ts, self.state.near.to_bytes(d.sig))
            if self.state.near.in_window(ts, now.timestamp()):
                self.state.near.add(article.article_id, d.sig, ts)
        self.state.index.upsert(article)
        return article

    async def _emit(self, article: Article) -> None:
        await self.events.article_ingested(article)
        if self.clock.now() - article.published_at <= TREND_HORIZON:
            await self.events.mentions(mentions_of(article))
        # re-read: a copy in the same poll may have been linked to it since it was stored
        current = self.repo.article(article.article_id) or article
        current.emitted = True
        self.repo.save_article(current)

    async def _re_emit_if_needed(self, article_id: str) -> None:
        """An article stored by a poll that died before publishing it: publish it now."""
        article = self.repo.article(article_id)
        if article is not None and not article.emitted:
            await self._emit(article)


def _usable(parsed: ParsedFeed, report: PollReport) -> list[RawEntry]:
    """The entries that can become articles; the others counted by reason."""
    usable = []
    for entry in parsed.entries:
        if not entry.link:
            report.skip("no_link")
        elif not has_text(entry):
            report.skip("no_text")
        else:
            usable.append(entry)
    return usable


def mentions_of(article: Article) -> list[Any]:
    at = article.published_at
    e = article.enrichment.entities
    out = [Mention("organization", n, article.article_id, at) for n in e.organizations]
    out += [Mention("person", n, article.article_id, at) for n in e.people]
    out += [Mention("place", n, article.article_id, at) for n in e.places]
    out += [Mention("keyword", k, article.article_id, at) for k in article.enrichment.keywords]
    unique: dict[str, Mention] = {}
    for m in out:
        unique.setdefault(m.key, m)
    return list(unique.values())

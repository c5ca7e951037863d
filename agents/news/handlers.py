"""News worker handlers: plain async functions over the worker's ports."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from agents.news.messages import (
    AddFeed,
    GetArticle,
    ListFeeds,
    NewsFeed,
    PollFeed,
    PurgeArticles,
    RemoveFeed,
    SearchNews,
    Trending,
)
from agents.news.model import Feed, FeedState
from agents.news.normalize import canonical_url, feed_id_for
from agents.news.poller import FeedPoller
from agents.news.ports import TrendReader
from agents.news.read_cache import ReadCache
from agents.news.repository import NewsRepository
from agents.news.sqlite_article_index import Filters
from agents.news.state import NewsState
from agents.news.trending import trending
from enginedge_streams.errors import LimitExceededError, ValidationError
from enginedge_streams.handlers import CommandSpec
from enginedge_streams.ports.clock import Clock
from enginedge_streams.safe_http import SafeHttpPolicy, check_url


@dataclass(frozen=True)
class FeedRules:
    default_poll_seconds: int = 900
    min_poll_seconds: int = 60
    max_feeds: int = 1000
    trending_min_count: int = 2
    retention_days: float = 0.0
    url_policy: SafeHttpPolicy = field(default_factory=SafeHttpPolicy)


def feed_view(feed: Feed) -> dict[str, Any]:
    return feed.model_dump(mode="json")


# -- feeds -----------------------------------------------------------------------------


async def handle_add_feed(
    cmd: AddFeed, *, repo: NewsRepository, clock: Clock, rules: FeedRules
) -> dict[str, Any]:
    check_url(cmd.url, rules.url_policy)  # scheme, credentials, allow-list, IP literals
    interval = cmd.poll_interval_seconds or rules.default_poll_seconds
    if interval < rules.min_poll_seconds:
        raise ValidationError(
            f"poll_interval_seconds={interval} is below NEWS_MIN_POLL_SECONDS="
            f"{rules.min_poll_seconds}",
            code="POLL_INTERVAL_TOO_SHORT",
        )
    feed_id = feed_id_for(cmd.url)
    existing = repo.feed(feed_id)
    if existing is None:
        if repo.feed_count() >= rules.max_feeds:
            raise LimitExceededError(f"at most {rules.max_feeds} feeds (NEWS_MAX_FEEDS)")
        feed = Feed(
            feed_id=feed_id,
            url=cmd.url.strip(),
            name=cmd.name,
            category=cmd.category,
            tags=cmd.tags,
            poll_interval_seconds=interval,
            created_at=clock.now(),
            state=FeedState(next_poll_at=clock.now()),  # first poll at the next tick
        )
    else:
        feed = existing.model_copy(
            update={
                "name": cmd.name if cmd.name is not None else existing.name,
                "category": cmd.category if cmd.category is not None else existing.category,
                "tags": cmd.tags or existing.tags,
                "poll_interval_seconds": interval,
            }
        )
        if feed.state.last_status in ("ok", "not_modified", "unchanged"):
            feed.state.next_poll_at = min(
                feed.state.next_poll_at,
                (feed.state.last_polled_at or clock.now()) + timedelta(seconds=interval),
            )
    repo.save_feed(feed)
    return {"created": existing is None, "canonical_url": canonical_url(cmd.url), **feed_view(feed)}


async def handle_remove_feed(cmd: RemoveFeed, *, repo: NewsRepository) -> dict[str, Any]:
    feed = repo.require_feed(cmd.feed_id)
    repo.delete_feed(cmd.feed_id)
    return {"removed": True, "feed_id": feed.feed_id, "url": feed.url}


async def handle_list_feeds(cmd: ListFeeds, *, repo: NewsRepository) -> dict[str, Any]:
    feeds = [f for f in repo.feeds() if cmd.category is None or f.category == cmd.category.lower()]
    feeds.sort(key=lambda f: (f.created_at, f.feed_id))
    return {
        "feeds": [feed_view(f) for f in feeds],
        "count": len(feeds),
        "failing": sum(1 for f in feeds if f.state.last_status == "error"),
    }


async def handle_poll_feed(cmd: PollFeed, *, poller: FeedPoller) -> dict[str, Any]:
    report = await poller.poll(cmd.feed_id, force=cmd.force, scheduled_for=cmd.scheduled_for)
    return report.as_dict()


async def handle_purge(
    cmd: PurgeArticles, *, repo: NewsRepository, state: NewsState, clock: Clock, rules: FeedRules
) -> dict[str, Any]:
    days = cmd.older_than_days or rules.retention_days
    if not days:
        return {"deleted": 0, "retention_days": None}
    cutoff = clock.now() - timedelta(days=days)
    old = [a for a in repo.articles() if a.published_at < cutoff]
    for article in old:
        repo.delete_article(article)
        state.index.delete(article.article_id)
        state.near.remove(article.article_id)
    return {"deleted": len(old), "cutoff": cutoff.isoformat(), "retention_days": days}


# -- reads -----------------------------------------------------------------------------


def _filters(cmd: NewsFeed | SearchNews) -> Filters:
    return Filters(
        category=cmd.category,
        source=cmd.source,
        language=cmd.language,
        tags=cmd.tags,
        date_from=cmd.date_from,
        date_to=cmd.date_to,
    )


def _paged(page: int, size: int, total: int) -> dict[str, int]:
    return {"page": page, "page_size": size, "total": total, "pages": math.ceil(total / size)}


async def handle_news_feed(cmd: NewsFeed, *, state: NewsState, cache: ReadCache) -> dict[str, Any]:
    async def compute() -> dict[str, Any]:
        offset = (cmd.page - 1) * cmd.page_size
        page = state.index.latest(_filters(cmd), offset=offset, limit=cmd.page_size)
        return {"articles": page.items, **_paged(cmd.page, cmd.page_size, page.total)}

    return await cache.get_or_compute("news.feed", cmd, _fresh(state), compute)


async def handle_search(cmd: SearchNews, *, state: NewsState, cache: ReadCache) -> dict[str, Any]:
    async def compute() -> dict[str, Any]:
        offset = (cmd.page - 1) * cmd.page_size
        page = state.index.search(cmd.query, _filters(cmd), offset=offset, limit=cmd.page_size)
        return {
            "query": cmd.query,
            "results": page.items,
            "facets": page.facets,
            **_paged(cmd.page, cmd.page_size, page.total),
        }

    return await cache.get_or_compute("news.search", cmd, _fresh(state), compute)


async def handle_get(
    cmd: GetArticle, *, repo: NewsRepository, state: NewsState, cache: ReadCache
) -> dict[str, Any]:
    async def compute() -> dict[str, Any]:
        return repo.require_article(cmd.article_id).model_dump(mode="json")

    return await cache.get_or_compute("news.get", cmd, _fresh(state), compute)


async def handle_trending(
    cmd: Trending,
    *,
    trends: TrendReader,
    state: NewsState,
    clock: Clock,
    cache: ReadCache,
    rules: FeedRules,
) -> dict[str, Any]:
    now = cmd.as_of or clock.now()

    async def compute() -> dict[str, Any]:
        return trending(
            trends, cmd.window, now, limit=cmd.limit, min_count=rules.trending_min_count
        )

    # keyed on the trend generation and the minute when no as_of is given
    fresh = f"{state.instance}.{state.trend_generation}.{int(now.timestamp() // 60)}"
    return await cache.get_or_compute("news.trending", cmd, fresh, compute)


def _fresh(state: NewsState) -> str:
    return f"{state.instance}.{state.index.generation}"


COMMANDS = [
    CommandSpec("feed.add", AddFeed, handle_add_feed, "Add (or update) a feed to poll."),
    CommandSpec("feed.remove", RemoveFeed, handle_remove_feed, "Stop polling a feed."),
    CommandSpec(
        "feed.list",
        ListFeeds,
        handle_list_feeds,
        "Feeds with their last poll status.",
        read_only=True,
    ),
    CommandSpec(
        "feed.poll",
        PollFeed,
        handle_poll_feed,
        "Poll a feed now (sent by the polling timer; callable by hand).",
    ),
    CommandSpec(
        "news.purge",
        PurgeArticles,
        handle_purge,
        "Delete articles older than the retention (sent hourly by the timer).",
    ),
    CommandSpec(
        "news.feed",
        NewsFeed,
        handle_news_feed,
        "Newest articles, filtered and paged.",
        read_only=True,
    ),
    CommandSpec(
        "news.search",
        SearchNews,
        handle_search,
        "Full-text search with relevance and facets.",
        read_only=True,
    ),
    CommandSpec("news.get", GetArticle, handle_get, "One article in full.", read_only=True),
    CommandSpec(
        "news.trending",
        Trending,
        handle_trending,
        "Entities and keywords growing fastest in a 1h/24h/7d window.",
        read_only=True,
    ),
]

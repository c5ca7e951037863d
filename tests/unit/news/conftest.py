"""Fixtures: a feed site answered in process (``FeedSite.respond`` behind a
``RoutedHttpFetcher``: no socket) and the news worker's ports with deterministic fakes
(in-memory store, fake enricher, in-memory trends). The same site over real HTTP is in
``tests/integration/test_news_bus.py``."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from agents.news.dedupe import NearDuplicateIndex
from agents.news.fakes import FakeEnricher, InMemoryTrends, RecordingEvents
from agents.news.handlers import FeedRules
from agents.news.ingest import IngestConfig
from agents.news.poller import FeedPoller
from agents.news.read_cache import ReadCache
from agents.news.repository import NewsRepository
from agents.news.sqlite_article_index import SqliteArticleIndex
from agents.news.state import NewsState
from enginedge_streams.adapters.system_clock import SystemClock
from enginedge_streams.safe_http import SafeHttpPolicy
from enginedge_streams.testing import InMemoryCache, InMemoryRateLimiter, in_memory_processor
from enginedge_streams.testing.http_fetcher import RoutedHttpFetcher
from enginedge_streams.testing.key_value_store import InMemoryKeyValueStore
from tests.support.news_corpus import COMPANIES, PEOPLE, PLACES
from tests.support.news_feeds import FeedSite

GAZETTEER = {
    **{c: "ORG" for c in COMPANIES},
    **{p: "PERSON" for p in PEOPLE},
    **{p: "GPE" for p in PLACES},
}
# The slow feed answers after 30 s; fetches time out after 0.5 s (the others answer at once).
POLICY = SafeHttpPolicy(allow_loopback=True, timeout_s=0.5)


@pytest.fixture
def site() -> FeedSite:
    return FeedSite(slow_seconds=30.0, base="http://news.test")


@dataclass
class World:
    repo: NewsRepository
    state: NewsState
    events: RecordingEvents
    trends: InMemoryTrends
    enricher: FakeEnricher
    limiter: InMemoryRateLimiter
    http: RoutedHttpFetcher
    clock: object
    poller: FeedPoller
    rules: FeedRules
    cache: ReadCache
    deps: dict = field(default_factory=dict)


def make_world(
    site: FeedSite | None = None,
    *,
    clock=None,
    host_rate=1000,
    threshold=0.5,
    fulltext_min_chars=600,
    enricher=None,
) -> World:
    repo = NewsRepository(InMemoryKeyValueStore())
    state = NewsState(
        index=SqliteArticleIndex(),
        near=NearDuplicateIndex(threshold=threshold, num_perm=128, window_seconds=14 * 86400),
    )
    trends = InMemoryTrends()
    events = RecordingEvents(trends)
    enricher = enricher or FakeEnricher(GAZETTEER, categories={"business": ["shares", "revenue"]})
    limiter = InMemoryRateLimiter()
    http = RoutedHttpFetcher({site.base: site.respond} if site else {}, POLICY)
    clock = clock or SystemClock()
    poller = FeedPoller(
        repo=repo,
        http=http,
        limiter=limiter,
        enricher=enricher,
        events=events,
        state=state,
        clock=clock,
        config=IngestConfig(
            host_rate_per_minute=host_rate,
            fulltext_min_chars=fulltext_min_chars,
            backoff_max_seconds=3600,
        ),
    )
    rules = FeedRules(
        default_poll_seconds=300,
        min_poll_seconds=1,
        max_feeds=50,
        trending_min_count=2,
        url_policy=POLICY,
    )
    cache = ReadCache(InMemoryCache(), ttl_seconds=60)
    w = World(repo, state, events, trends, enricher, limiter, http, clock, poller, rules, cache)
    w.deps = {
        "repo": repo,
        "clock": clock,
        "rules": rules,
        "poller": poller,
        "state": state,
        "cache": cache,
        "trends": trends,
    }
    return w


@pytest.fixture
def world(site: FeedSite) -> World:
    return make_world(site)


async def run(world: World, command_type: str, payload: dict, **fields):
    """Run one command through the platform's CommandProcessor (validation, error codes)."""
    from agents.news.handlers import COMMANDS
    from enginedge_streams.handlers import bind
    from enginedge_streams.records import Command

    proc = world.deps.get("_proc")
    if proc is None:
        proc = in_memory_processor(
            "news", bind(COMMANDS, world.deps), max_attempts=2, max_command_bytes=1_000_000
        )
        world.deps["_proc"] = proc
    return await proc.execute(Command(command_type=command_type, payload=payload, **fields))

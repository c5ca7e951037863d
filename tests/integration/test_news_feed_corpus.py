"""feedparser 6.0.14's test feeds (tests/integration/news_feed_corpus.py) through the news
worker's handlers: served over HTTP from 127.0.0.1, added and polled with ``feed.add`` /
``feed.poll`` through the platform's CommandProcessor (the worker's ports: the safe HTTP
client, the key-value table, the article index, the compute steps inline; a deterministic
enricher, no article-page fetches since the corpus links point at example.org).

Targets (issue 18): every entry feedparser yields is stored or counted with a reason; every
stored title equals feedparser's; no literal HTML entity in stored text or keywords; CDF
feeds are read. Figures: docs/workers/news.md.
"""

from __future__ import annotations

import json
import os

import pytest

from agents.news.dedupe import NearDuplicateIndex
from agents.news.fakes import FakeEnricher, InMemoryTrends, RecordingEvents
from agents.news.handlers import COMMANDS, FeedRules
from agents.news.ingest import IngestConfig
from agents.news.poller import FeedPoller
from agents.news.read_cache import ReadCache
from agents.news.repository import NewsRepository
from agents.news.sqlite_article_index import SqliteArticleIndex
from agents.news.state import NewsState
from enginedge_streams.adapters.system_clock import SystemClock
from enginedge_streams.handlers import bind
from enginedge_streams.records import Command, Status
from enginedge_streams.safe_http import SafeHttpClient, SafeHttpPolicy
from enginedge_streams.testing import InMemoryCache, InMemoryRateLimiter, in_memory_processor
from enginedge_streams.testing.key_value_store import InMemoryKeyValueStore
from tests.integration.news_feed_corpus import (
    CorpusReport,
    check_feed,
    corpus_app,
    feed_files,
    fetch,
)
from tests.support.local_http_server import ThreadedServer

pytestmark = pytest.mark.timeout(600)


def _processor(http: SafeHttpClient) -> tuple[object, NewsRepository]:
    repo = NewsRepository(InMemoryKeyValueStore())
    state = NewsState(
        index=SqliteArticleIndex(),
        near=NearDuplicateIndex(threshold=0.9, num_perm=128, window_seconds=14 * 86400),
    )
    trends = InMemoryTrends()
    clock = SystemClock()
    poller = FeedPoller(
        repo=repo,
        http=http,
        limiter=InMemoryRateLimiter(),
        enricher=FakeEnricher({}, categories={}),
        events=RecordingEvents(trends),
        state=state,
        clock=clock,
        config=IngestConfig(host_rate_per_minute=100_000, fulltext_min_chars=0),
    )
    rules = FeedRules(
        default_poll_seconds=300,
        min_poll_seconds=1,
        max_feeds=10_000,
        trending_min_count=2,
        url_policy=http.policy,
    )
    deps = {
        "repo": repo,
        "clock": clock,
        "rules": rules,
        "poller": poller,
        "state": state,
        "cache": ReadCache(InMemoryCache(), ttl_seconds=60),
        "trends": trends,
    }
    proc = in_memory_processor("news", bind(COMMANDS, deps), max_attempts=1)
    return proc, repo


async def test_feedparser_test_feeds_all_entries_accounted_titles_match():
    tests = fetch()
    files = feed_files(tests)
    server = ThreadedServer(lambda: corpus_app(tests)).start()
    http = SafeHttpClient(SafeHttpPolicy(allow_loopback=True, timeout_s=5.0))
    proc, repo = _processor(http)
    report = CorpusReport()
    try:
        for path in files:
            rel = path.relative_to(tests).as_posix()
            url = f"{server.url}/{rel}"
            added = await proc.execute(
                Command(command_type="feed.add", payload={"url": url, "poll_interval_seconds": 60})
            )
            assert added.status is Status.COMPLETED, (rel, added.error)
            feed_id = added.result["feed_id"]
            got = await proc.execute(
                Command(command_type="feed.poll", payload={"feed_id": feed_id, "force": True})
            )
            ok = got.status is Status.COMPLETED
            assert ok or got.error.code != "INTERNAL_ERROR", (rel, got.error)
            check_feed(
                report,
                rel,
                path.read_bytes(),
                url,
                got.result if ok else None,
                None if ok else got.error.code,
                repo.article,
            )
            await proc.execute(Command(command_type="feed.remove", payload={"feed_id": feed_id}))
    finally:
        await http.stop()
        server.stop()
    summary = report.summary()
    print("feedparser corpus:", json.dumps(summary, sort_keys=True))
    if out := os.environ.get("NEWS_CORPUS_REPORT"):
        with open(out, "w") as fh:
            json.dump(
                {**summary, "examples": {
                    "unaccounted": report.unaccounted[:20],
                    "failed_with_entries": report.failed_with_entries[:20],
                    "title_mismatches": report.title_mismatches[:20],
                    "literal_entities": report.literal_entities[:20],
                }},
                fh, indent=1, sort_keys=True,
            )  # fmt: skip
    assert report.files == len(files) > 2000
    assert report.unaccounted == [], report.unaccounted[:5]
    assert report.accounted == report.entries > 1000
    assert report.failed_with_entries == [], report.failed_with_entries[:5]
    assert report.title_mismatches == [], report.title_mismatches[:5]
    assert report.literal_entities == [], report.literal_entities[:5]
    assert report.cdf_ok == 14  # every CDF test document is read

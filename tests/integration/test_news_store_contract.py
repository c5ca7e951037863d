"""The news repository contract, run on the in-memory store and on the real Faust table
(RocksDB, key-partitioned) behind ``FaustKeyValueStore``; plus the index rebuild from it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from agents.news.dedupe import NearDuplicateIndex
from agents.news.model import Article, Enrichment, Entities, Feed, FeedState
from agents.news.repository import NewsRepository
from agents.news.sqlite_article_index import Filters, SqliteArticleIndex
from agents.news.state import NewsState
from enginedge_streams.errors import NotFoundError
from enginedge_streams.testing.key_value_store import InMemoryKeyValueStore
from enginedge_streams.testing.redis import FakeRedisClient
from tables.kv import FaustKeyValueStore
from tests.support.news_corpus import story

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "faust-table"])
def repo(request, tmp_path):
    if request.param == "memory":
        yield NewsRepository(InMemoryKeyValueStore())
        return
    # A Faust table's changelog writes need a current event loop; an earlier
    # pytest-asyncio test may have closed and unset the main thread's loop.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    from enginedge_streams.bootstrap import bootstrap
    from enginedge_streams.settings import Settings
    from enginedge_streams.testing import RecordingSink

    app = bootstrap(
        Settings(worker_type="news", data_dir=tmp_path, topic_prefix="contract."),
        overrides={"redis": FakeRedisClient(), "result_sink": RecordingSink()},
    )
    app.finalize()
    yield NewsRepository(FaustKeyValueStore(app.tables["news-state"]))
    asyncio.set_event_loop(None)
    loop.close()


def feed(n: int) -> Feed:
    return Feed(
        feed_id=f"f{n}",
        url=f"https://example.com/{n}.xml",
        poll_interval_seconds=60,
        created_at=NOW,
        state=FeedState(next_poll_at=NOW),
    )


def article(n: int) -> Article:
    s = story(900 + n)
    return Article(
        article_id=f"a{n}",
        url=f"https://example.com/a/{n}",
        original_url=f"https://example.com/a/{n}",
        title=s.title,
        summary=s.text[:100],
        text=s.text,
        text_source="feed",
        published_at=NOW,
        fetched_at=NOW,
        language="en",
        source="Example",
        source_domain="example.com",
        feed_id="f1",
        content_hash=f"h{n}",
        enrichment=Enrichment(
            entities=Entities(organizations=[s.company]),
            keywords=["operations"],
            category="business",
            category_source="feed",
        ),
    )


def test_feeds(repo):
    assert repo.feed("f1") is None and repo.feeds() == [] and repo.feed_count() == 0
    with pytest.raises(NotFoundError) as err:
        repo.require_feed("f1")
    assert err.value.code == "FEED_NOT_FOUND"
    for n in (2, 1, 3):
        repo.save_feed(feed(n))
    assert [f.feed_id for f in repo.feeds()] == ["f1", "f2", "f3"] and repo.feed_count() == 3
    changed = feed(2)
    changed.state.last_status = "error"
    repo.save_feed(changed)
    assert repo.require_feed("f2").state.last_status == "error"
    repo.delete_feed("f2")
    assert [f.feed_id for f in repo.feeds()] == ["f1", "f3"] and repo.feed("f2") is None


def test_articles_indexes_and_signatures(repo):
    with pytest.raises(NotFoundError) as err:
        repo.require_article("a1")
    assert err.value.code == "ARTICLE_NOT_FOUND"
    for n in range(3):
        repo.save_article(article(n))
        repo.link_url(f"u{n}", f"a{n}")
        repo.link_hash(f"h{n}", f"a{n}")
    repo.save_feed(feed(9))  # another prefix does not leak into article scans
    assert sorted(a.article_id for a in repo.articles()) == ["a0", "a1", "a2"]
    assert repo.by_url("u1") == "a1" and repo.by_url("nope") is None
    assert repo.by_hash("h2") == "a2" and repo.by_hash("nope") is None
    repo.link_url("u-copy", "a1")
    assert repo.by_url("u-copy") == "a1"
    near = NearDuplicateIndex(threshold=0.5, num_perm=64, window_seconds=10**9)
    sig = near.signature(article(1).text)
    repo.save_signature("a1", 1234.5, near.to_bytes(sig))
    ((aid, ts, raw),) = list(repo.signatures())
    assert aid == "a1" and ts == 1234.5 and near.from_bytes(raw).jaccard(sig) == 1.0


def test_indexes_rebuild_from_the_store(repo):
    near = NearDuplicateIndex(threshold=0.5, num_perm=64, window_seconds=10**10)
    for n in range(3):
        a = article(n)
        repo.save_article(a)
        repo.save_signature(
            a.article_id, a.published_at.timestamp(), near.to_bytes(near.signature(a.text))
        )
    state = NewsState(
        index=SqliteArticleIndex(),
        near=NearDuplicateIndex(threshold=0.5, num_perm=64, window_seconds=10**10),
    )
    state.rebuild(repo, NOW.timestamp())
    assert len(state.index) == 3 and len(state.near) == 3
    target = article(1)
    hits = state.index.search(
        story(901).person + " " + story(901).place, Filters(), offset=0, limit=3
    )
    assert hits.items[0]["article_id"] == "a1"
    assert state.near.best_match(state.near.signature(target.text)).article_id == "a1"

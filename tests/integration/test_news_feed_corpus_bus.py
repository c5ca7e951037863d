"""A sample of feedparser 6.0.14's test feeds through the real news worker over Kafka, enriching
through a real spaCy worker: the feeds are added with ``feed.add``, the worker's polling timer
polls them, and each feed's state (``entries_seen``, ``articles_new``, ``skipped``) must account
for every entry feedparser reads; the stored articles (``news.get``) carry feedparser's titles
and no literal HTML entity. The whole corpus runs in-process in test_news_feed_corpus.py."""

from __future__ import annotations

import asyncio

import pytest

from agents.news.normalize import article_id_for, canonical_url
from enginedge_streams.records import Status
from tests.integration.news_feed_corpus import (
    ENTITY,
    corpus_app,
    expected_title,
    feed_files,
    fetch,
    reference,
)
from tests.support.local_http_server import ThreadedServer
from tests.support.news_feeds import NEWS_TEST_ENV, start_news_and_spacy

pytestmark = pytest.mark.timeout(300)

NEWS_ENV = {
    **NEWS_TEST_ENV,
    "NEWS_HOST_RATE_PER_MINUTE": "10000",
    "NEWS_FULLTEXT_MIN_CHARS": "0",  # corpus links point at example.org: no page fetches
}
SAMPLE_DIRS = ("wellformed/cdf/", "wellformed/rss/", "wellformed/atom10/", "entities/")


def sample(tests):
    """Files with entries feedparser reads: all CDF ones, every 6th of a few other groups,
    and every file whose entries have both a link and a title (the ones stored)."""
    out = []
    for n, path in enumerate(feed_files(tests)):
        rel = path.relative_to(tests).as_posix()
        entries = reference(path.read_bytes(), "http://127.0.0.1/" + rel).entries
        if not entries:
            continue
        stored_kind = all(e.get("link") and e.get("title") for e in entries)
        if (
            stored_kind
            or rel.startswith("wellformed/cdf/")
            or (rel.startswith(SAMPLE_DIRS) and n % 6 == 0)
        ):
            out.append(path)
    return out


@pytest.fixture(scope="module")
def corpus():
    tests = fetch()
    server = ThreadedServer(lambda: corpus_app(tests)).start()
    yield tests, server.url
    server.stop()


@pytest.fixture(scope="module")
def workers(module_worker_factory):
    return start_news_and_spacy(module_worker_factory, NEWS_ENV)


async def test_feedparser_test_feed_sample_over_kafka(workers, corpus, module_bus):
    bus = module_bus
    tests, base = corpus
    files = sample(tests)
    assert len(files) >= 60
    urls = {}
    for path in files:
        url = f"{base}/{path.relative_to(tests).as_posix()}"
        added = await bus.call(
            "news", "feed.add", {"url": url, "poll_interval_seconds": 3600}, timeout=30
        )
        assert added.status is Status.COMPLETED, added.error
        urls[url] = path

    async def all_polled():
        listed = await bus.call("news", "feed.list", {}, timeout=30)
        assert listed.status is Status.COMPLETED, listed.error
        feeds = {f["url"]: f for f in listed.result["feeds"]}
        done = all(feeds[u]["state"]["last_status"] != "never" for u in urls)
        return feeds if done else None

    deadline = asyncio.get_running_loop().time() + 180
    feeds = None
    while feeds is None and asyncio.get_running_loop().time() < deadline:
        feeds = await all_polled()
        if feeds is None:
            await asyncio.sleep(1)
    assert feeds is not None, "the timer did not poll every feed in time"

    entries = stored = titles = 0
    for url, path in urls.items():
        st = feeds[url]["state"]
        assert st["last_status"] == "ok", (url, st["last_error_code"], st["last_error"])
        ref = reference(path.read_bytes(), url).entries
        entries += len(ref)
        assert st["entries_seen"] == len(ref), url
        assert st["articles_new"] + sum(st["skipped"].values()) == len(ref), (url, st)
        stored += st["articles_new"]
        for entry in ref:
            link = (entry.get("link") or "").strip()
            if not link:
                continue
            got = await bus.call(
                "news", "news.get", {"article_id": article_id_for(canonical_url(link))}, timeout=30
            )
            if got.status is not Status.COMPLETED or got.result["feed_id"] != feeds[url]["feed_id"]:
                continue
            titles += 1
            article = got.result
            assert article["title"] == expected_title(entry), url
            for text in (article["title"], article["summary"], article["text"],
                         *article["enrichment"]["keywords"]):  # fmt: skip
                assert not ENTITY.search(text), (url, text[:200])
    print(f"feedparser sample over Kafka: {len(urls)} feeds, {entries} entries, {stored} stored,"
          f" {titles} titles checked")  # fmt: skip
    assert stored >= 10 and titles == stored

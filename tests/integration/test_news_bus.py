"""The news worker over the real Kafka and Redis, enriching through a real spaCy worker:
add feed -> the polling timer polls (conditional GET) -> articles stored, streamed and
searchable -> the windowed trend tables reflect them; duplicates across feeds are linked;
a malformed feed is reported without stopping the others; state survives a wiped data dir."""

from __future__ import annotations

import asyncio
import re
import shutil
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from aiokafka import AIOKafkaConsumer

from enginedge_streams.records import Status
from tests.support.local_http_server import ThreadedServer
from tests.support.news_corpus import light_edit, story
from tests.support.news_feeds import NEWS_TEST_ENV, FeedSite, items_from, start_news_and_spacy
from tests.support.stack import KAFKA
from tests.support.workers import http_get, http_post

pytestmark = pytest.mark.timeout(180)

NEWS_ENV = {**NEWS_TEST_ENV, "NEWS_HOST_RATE_PER_MINUTE": "1000", "NEWS_CACHE_TTL_SECONDS": "30"}


@pytest.fixture(scope="module")
def site():
    site = FeedSite(slow_seconds=10)
    server = ThreadedServer(site.app).start()
    site.base = server.url
    now = datetime.now(UTC)
    acme = [story(500 + i, company="Acme Corp") for i in range(3)]
    site.feeds["wire"] = ("rss2", items_from(acme, "wire", start=now - timedelta(minutes=40)))
    site.feeds["paper"] = (
        "atom",
        items_from(
            [light_edit(acme[0], 3), story(520, company="Globex")],
            "paper",
            start=now - timedelta(minutes=30),
        ),
    )
    # last week's coverage: Cyberdyne Systems grew this week (more mentions than Acme Corp's burst),
    # none of it in the last hour
    globex = [
        s
        for s in (story(600 + i, company="Cyberdyne Systems") for i in range(40))
        if "Acme" not in s.text
    ]
    site.feeds["archive"] = (
        "rss2",
        items_from(globex[:6], "arch", start=now - timedelta(days=6), step=timedelta(hours=20)),
    )
    yield site
    server.stop()


@pytest.fixture(scope="module")
def workers(module_worker_factory):
    return start_news_and_spacy(module_worker_factory, NEWS_ENV)


async def until(check, timeout=60.0, every=0.5):
    deadline = asyncio.get_running_loop().time() + timeout
    last = None
    while asyncio.get_running_loop().time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(every)
    raise AssertionError(f"condition not met in {timeout}s; last={last!r}")


async def feeds_by_url(bus):
    result = await bus.call("news", "feed.list", {}, timeout=30)
    assert result.status is Status.COMPLETED, result.error
    return {f["url"]: f for f in result.result["feeds"]}


async def test_add_feed_poll_search_trending_over_kafka(workers, site, module_bus, module_prefix):
    bus = module_bus
    wire_url, paper_url = f"{site.base}/feeds/wire", f"{site.base}/feeds/paper"
    broken_url = f"{site.base}/malformed.xml"
    archive_url = f"{site.base}/feeds/archive"
    for url in (wire_url, broken_url, archive_url):
        added = await bus.call(
            "news", "feed.add", {"url": url, "poll_interval_seconds": 2}, timeout=30
        )
        assert added.status is Status.COMPLETED, added.error

    async def wire_polled():
        feeds = await feeds_by_url(bus)
        st = feeds[wire_url]["state"]
        return (
            feeds
            if st["total_articles"] == 3 and feeds[archive_url]["state"]["total_articles"] == 6
            else None
        )

    feeds = await until(wire_polled, timeout=90)
    broken = await until(lambda: _broken_reported(bus, broken_url), timeout=30)
    assert broken["last_error_code"] == "FEED_MALFORMED" and broken["consecutive_failures"] >= 1
    assert feeds[wire_url]["state"]["etag"]

    # the copy in the second feed is linked to the first article, not stored again
    added = await bus.call(
        "news", "feed.add", {"url": paper_url, "poll_interval_seconds": 2}, timeout=30
    )
    assert added.status is Status.COMPLETED

    async def paper_polled():
        st = (await feeds_by_url(bus))[paper_url]["state"]
        return st if st["last_status"] in ("ok", "not_modified") and st["polls"] >= 1 else None

    paper = await until(paper_polled, timeout=60)
    assert paper["total_articles"] == 1 and paper["duplicates"] == 1

    # conditional GET: later polls of the wire feed are answered 304
    await until(lambda: _ready(site.not_modified["wire"] >= 2), timeout=30)
    assert site.hits["page:wire-0"] == 0  # full text was in the feed: no page fetch

    acme = story(500, company="Acme Corp")
    found = await bus.call(
        "news", "news.search", {"query": f"{acme.person} {acme.place}"}, timeout=30
    )
    assert found.status is Status.COMPLETED, found.error
    top = found.result["results"][0]
    assert top["title"] == acme.title
    assert "Acme Corp" in top["entities"]["organizations"]  # spaCy over the bus
    assert top["duplicate_count"] == 1
    acme_facet = [f for f in found.result["facets"]["organizations"] if f["value"] == "Acme Corp"]
    assert acme_facet and acme_facet[0]["count"] >= 1
    got = await bus.call("news", "news.get", {"article_id": top["article_id"]}, timeout=30)
    assert got.result["duplicates"][0]["kind"] == "near"
    assert got.result["language"] == "en"
    assert got.result["enrichment"]["keywords"] and got.result["enrichment"]["category"]

    seen = []

    async def trending_acme():
        r = await bus.call("news", "news.trending", {"window": "1h"}, timeout=30)
        seen[:] = [r.result or r.error]
        orgs = r.result["organizations"] if r.status is Status.COMPLETED else []
        return (
            r.result
            if orgs and orgs[0]["term"] == "Acme Corp" and orgs[0]["current"] >= 3
            else None
        )

    try:
        trend = await until(trending_acme, timeout=30)
    except AssertionError:
        raise AssertionError(f"trending: {seen!r}") from None
    assert trend["organizations"][0]["previous"] == 0
    # the windowed tables: Acme Corp's burst tops the last hour, not the week (Cyberdyne Systems does)
    week = await bus.call("news", "news.trending", {"window": "7d"}, timeout=30)
    orgs = week.result["organizations"]
    assert orgs[0]["term"] == "Cyberdyne Systems" and orgs[0]["current"] >= 6, orgs
    assert next(o for o in orgs if o["term"] == "Acme Corp")["current"] < orgs[0]["current"]
    feed_page = await bus.call("news", "news.feed", {"page_size": 2}, timeout=30)
    assert feed_page.result["total"] == 10 and len(feed_page.result["articles"]) == 2

    _, news = workers
    _, metrics = http_get(f"{news.url}/metrics")
    text = metrics.decode()
    for api in ("feed", "spacy"):
        assert re.search(
            rf'worker_external_api_calls_total{{api="{api}",worker_type="news"}} [1-9]', text
        ), api

    # every stored article was published once on the articles stream
    consumer = AIOKafkaConsumer(
        f"{module_prefix}worker.news.articles",
        bootstrap_servers=KAFKA,
        auto_offset_reset="earliest",
        group_id=None,
    )
    await consumer.start()
    try:
        events = []
        batch = await consumer.getmany(timeout_ms=5000)
        for msgs in batch.values():
            events += [orjson.loads(m.value) for m in msgs]
    finally:
        await consumer.stop()
    ids = [e["article"]["article_id"] for e in events if e["type"] == "article.ingested"]
    assert len(ids) == len(set(ids)) == 10


async def _broken_reported(bus, url):
    st = (await feeds_by_url(bus))[url]["state"]
    return st if st["last_status"] == "error" else None


async def _ready(value):
    return value


async def test_bad_commands_fail_with_codes_and_reads_over_http(workers, module_bus):
    _, news = workers
    status, body = await asyncio.to_thread(
        http_post, f"{news.url}/news/search", orjson.dumps({"query": "Acme", "page_size": 2})
    )
    assert status == 200 and orjson.loads(body)["total"] >= 3
    # read results are cached in the real Redis under keys holding every filter
    first = await module_bus.call("news", "news.feed", {"tags": ["business"]}, timeout=30)
    again = await module_bus.call("news", "news.feed", {"tags": ["business"]}, timeout=30)
    other = await module_bus.call(
        "news", "news.feed", {"tags": ["business"], "page": 2}, timeout=30
    )
    assert first.result["cached"] is False and again.result["cached"] is True
    assert other.result["cached"] is False and again.result["total"] == first.result["total"]
    status, body = await asyncio.to_thread(
        http_post, f"{news.url}/news/trending", orjson.dumps({"window": "5m"})
    )
    assert status == 400 and orjson.loads(body)["error"]["code"] == "INVALID_PAYLOAD"
    bad = await module_bus.call("news", "news.search", {"query": ""}, timeout=30)
    assert bad.status is Status.FAILED and bad.error.code == "INVALID_PAYLOAD"
    missing = await module_bus.call("news", "news.get", {"article_id": "nope"}, timeout=30)
    assert missing.error.code == "ARTICLE_NOT_FOUND"
    refused = await module_bus.call("news", "feed.add", {"url": "file:///etc/passwd"}, timeout=30)
    assert refused.error.code in ("URL_REFUSED", "INVALID_PAYLOAD")


async def test_state_survives_a_wiped_data_dir(workers, site, module_bus):
    _, news = workers
    before = await module_bus.call("news", "news.feed", {"page_size": 100}, timeout=30)
    assert before.result["total"] == 10
    news.stop(timeout=30)
    shutil.rmtree(news.data_dir, ignore_errors=True)
    news.start(timeout=120)
    after = await module_bus.call("news", "news.feed", {"page_size": 100}, timeout=60)
    assert after.status is Status.COMPLETED
    assert {a["article_id"] for a in after.result["articles"]} == {
        a["article_id"] for a in before.result["articles"]
    }
    acme = story(500, company="Acme Corp")
    found = await module_bus.call("news", "news.search", {"query": acme.person}, timeout=30)
    assert any(r["title"] == acme.title for r in found.result["results"])
    trend = await module_bus.call("news", "news.trending", {"window": "1h"}, timeout=30)
    assert trend.result["organizations"][0]["term"] == "Acme Corp"  # windowed tables restored

"""Feed commands, read commands (filters, paging, relevance, facets, cache), scheduler,
normalisation and failure codes."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import feedparser
import pytest

from agents.news.fakes import FakeEnricher
from agents.news.messages import SearchNews
from agents.news.normalize import (
    canonical_url,
    content_hash,
    html_to_text,
    language_tag,
    published_time,
)
from agents.news.read_cache import cache_key
from agents.news.scheduler import FeedScheduler
from enginedge_streams.errors import DependencyUnavailableError
from enginedge_streams.records import Status
from enginedge_streams.testing.clock import FixedClock
from enginedge_streams.testing.messaging import RecordingCommandSender
from tests.support.news_corpus import story
from tests.support.news_feeds import items_from

from .conftest import make_world, run

pytestmark = pytest.mark.timeout(60)


async def test_feed_add_validates_and_is_idempotent(world):
    bad = await run(world, "feed.add", {"url": "ftp://example.com/feed"})
    assert bad.status is Status.FAILED and bad.error.code == "URL_REFUSED"
    bad = await run(world, "feed.add", {"url": "http://10.0.0.1/feed.xml"})
    assert bad.error.code == "URL_REFUSED"
    extra = await run(world, "feed.add", {"url": "https://example.com/rss", "color": "red"})
    assert extra.error.code == "INVALID_PAYLOAD" and "color" in extra.error.message
    long = await run(world, "feed.add", {"url": "https://example.com/" + "x" * 3000})
    assert long.error.code == "INVALID_PAYLOAD"
    world.deps.pop("_proc")
    world.deps["rules"] = world.rules.__class__(
        min_poll_seconds=60, url_policy=world.rules.url_policy
    )
    short = await run(
        world, "feed.add", {"url": "https://example.com/rss", "poll_interval_seconds": 5}
    )
    assert short.error.code == "POLL_INTERVAL_TOO_SHORT"
    first = await run(
        world, "feed.add", {"url": "https://Example.com/rss?utm_source=a", "category": "Tech"}
    )
    again = await run(
        world, "feed.add", {"url": "https://example.com/rss", "poll_interval_seconds": 600}
    )
    assert first.result["created"] is True and again.result["created"] is False
    assert first.result["feed_id"] == again.result["feed_id"]
    assert again.result["category"] == "tech" and again.result["poll_interval_seconds"] == 600
    listed = await run(world, "feed.list", {})
    assert listed.result["count"] == 1
    assert listed.result["feeds"][0]["state"]["last_status"] == "never"
    removed = await run(world, "feed.remove", {"feed_id": first.result["feed_id"]})
    assert removed.result["removed"] is True
    missing = await run(world, "feed.remove", {"feed_id": first.result["feed_id"]})
    assert missing.error.code == "FEED_NOT_FOUND"
    missing = await run(world, "feed.poll", {"feed_id": "f-nope"})
    assert missing.error.code == "FEED_NOT_FOUND"


async def ingest(world, site):
    now = datetime.now(UTC)
    tech = [story(200 + i) for i in range(4)]
    biz = [story(210 + i, company="Globex") for i in range(5)]
    site.feeds["tech"] = (
        "rss2",
        items_from(tech, "tech", start=now - timedelta(days=3), step=timedelta(hours=5)),
    )
    site.feeds["biz"] = (
        "atom",
        items_from(biz, "biz", start=now - timedelta(days=1), step=timedelta(hours=1)),
    )
    for name, cat in (("tech", "technology"), ("biz", None)):
        payload = {"url": f"{site.base}/feeds/{name}", "name": f"{name} daily", "tags": [name]}
        if cat:
            payload["category"] = cat
        fid = (await run(world, "feed.add", payload)).result["feed_id"]
        assert (await run(world, "feed.poll", {"feed_id": fid})).status is Status.COMPLETED
    return tech, biz


async def test_news_feed_filters_and_pages(world, site):
    tech, biz = await ingest(world, site)
    page1 = (await run(world, "news.feed", {"page_size": 4})).result
    assert page1["total"] == 9 and page1["pages"] == 3 and len(page1["articles"]) == 4
    dates = [a["published_at"] for a in page1["articles"]]
    assert dates == sorted(dates, reverse=True)  # newest first
    page3 = (await run(world, "news.feed", {"page_size": 4, "page": 3})).result
    assert len(page3["articles"]) == 1
    by_cat = (await run(world, "news.feed", {"category": "technology"})).result
    assert by_cat["total"] == 4 and all(a["category"] == "technology" for a in by_cat["articles"])
    classified = (await run(world, "news.feed", {"source": "biz daily"})).result
    assert classified["total"] == 5
    assert all(a["category"] == "business" for a in classified["articles"])  # the classifier's
    tagged = (await run(world, "news.feed", {"tags": ["tech", "business"]})).result
    assert tagged["total"] == 4  # feed tag + the entries' <category>
    recent = (
        await run(
            world, "news.feed", {"date_from": (datetime.now(UTC) - timedelta(hours=30)).isoformat()}
        )
    ).result
    assert recent["total"] == 5 + sum(
        1
        for a in by_cat["articles"]
        if a["published_at"] >= (datetime.now(UTC) - timedelta(hours=30)).isoformat()
    )
    bad = await run(
        world,
        "news.feed",
        {"date_from": "2026-03-02T00:00:00+00:00", "date_to": "2026-03-01T00:00:00+00:00"},
    )
    assert bad.error.code == "INVALID_PAYLOAD"
    naive = await run(world, "news.feed", {"date_from": "2026-03-02T00:00:00"})
    assert naive.error.code == "INVALID_PAYLOAD"


async def test_search_ranks_by_relevance_with_facets(world, site):
    tech, biz = await ingest(world, site)
    target = biz[2]
    found = (
        await run(world, "news.search", {"query": f"{target.person} {target.place} Globex"})
    ).result
    assert found["results"][0]["title"] == target.title
    assert found["results"][0]["score"] >= found["results"][-1]["score"]
    assert "[" in found["results"][0]["snippet"]
    facets = found["facets"]
    assert {"value": "Globex", "count": found["total"]} in facets["organizations"]
    assert sum(f["count"] for f in facets["source"]) == found["total"]
    filtered = (
        await run(world, "news.search", {"query": "Globex", "category": "technology"})
    ).result
    assert all(r["category"] == "technology" for r in filtered["results"])
    none = (await run(world, "news.search", {"query": "zyxwvut"})).result
    assert none["total"] == 0 and none["results"] == []
    got = (await run(world, "news.get", {"article_id": found["results"][0]["article_id"]})).result
    assert got["text"].startswith(target.company) and got["enrichment"]["entities"]["organizations"]
    missing = await run(world, "news.get", {"article_id": "a-missing"})
    assert missing.error.code == "ARTICLE_NOT_FOUND"


async def test_read_cache_keys_include_every_filter(world, site):
    await ingest(world, site)
    a = SearchNews(query="Globex")
    b = SearchNews(query="Globex", page=2)
    c = SearchNews(query="Globex", tags=["biz"])
    d = SearchNews(query="Globex", date_to=datetime(2030, 1, 1, tzinfo=UTC))
    keys = {cache_key("news.search", m, "g1") for m in (a, b, c, d)}
    assert len(keys) == 4
    assert cache_key("news.search", a, "g1") == cache_key(
        "news.search", SearchNews(query="Globex"), "g1"
    )
    assert cache_key("news.search", a, "g1") != cache_key("news.search", a, "g2")
    first = (await run(world, "news.search", {"query": "Globex"})).result
    second = (await run(world, "news.search", {"query": "Globex"})).result
    other = (await run(world, "news.search", {"query": "Globex", "page_size": 2})).result
    assert first["cached"] is False and second["cached"] is True and other["cached"] is False
    assert {k: v for k, v in first.items() if k != "cached"} == {
        k: v for k, v in second.items() if k != "cached"
    }
    # a stored article changes the generation: the next read is fresh
    site.feeds["biz"][1].append(items_from([story(299, company="Globex")], "late")[0])
    fid = next(f.feed_id for f in world.repo.feeds() if f.url.endswith("/biz"))
    await run(world, "feed.poll", {"feed_id": fid})
    third = (await run(world, "news.search", {"query": "Globex"})).result
    assert third["cached"] is False and third["total"] == first["total"] + 1


async def test_enrichment_outage_fails_the_poll_and_keeps_the_feed_unchanged(site):
    world = make_world(site, enricher=FakeEnricher(fail=DependencyUnavailableError("spacy down")))
    site.feeds["e"] = ("rss2", items_from([story(300)], "e"))
    fid = (
        await run(world, "feed.add", {"url": f"{site.base}/feeds/e", "poll_interval_seconds": 60})
    ).result["feed_id"]
    failed = await run(world, "feed.poll", {"feed_id": fid})
    assert failed.status is Status.FAILED and failed.error.code == "DEPENDENCY_UNAVAILABLE"
    st = world.repo.require_feed(fid).state
    assert st.etag is None and st.body_sha256 is None and st.last_status == "error"
    assert len(world.state.index) == 0
    world.enricher.fail = None
    ok = await run(world, "feed.poll", {"feed_id": fid, "force": True})
    assert ok.result["new_articles"] == 1  # fetched again in full, not a 304


async def test_scheduler_sends_due_polls_once_per_slot():
    clock = FixedClock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    world = make_world(clock=clock)
    for n in range(3):
        await run(
            world, "feed.add", {"url": f"https://example.com/feed{n}", "poll_interval_seconds": 60}
        )
    sender = RecordingCommandSender()
    sched = FeedScheduler(world.repo, sender, clock, resend_after=timedelta(seconds=30))
    assert await sched.tick() == 3
    assert await sched.tick() == 0  # in flight: not re-sent
    clock.advance(seconds=31)
    assert await sched.tick() == 3  # never recorded: re-sent with fresh command ids
    assert len({cid for cid, _, _ in sender.commands}) == 6
    feed = world.repo.feeds()[0]
    feed.state.next_poll_at = clock.now() + timedelta(seconds=60)
    world.repo.save_feed(feed)
    world.repo.delete_feed(world.repo.feeds()[1].feed_id)
    clock.advance(seconds=31)
    assert await sched.tick() == 1
    assert all(t == "feed.poll" for _, t, _ in sender.commands)


def test_canonical_urls():
    assert canonical_url("HTTPS://www.Example.com:443/a//b/?utm_source=x&b=2&a=1&fbclid=z#top") == (
        "https://example.com/a/b?a=1&b=2"
    )
    assert canonical_url("http://example.com") == "http://example.com/"
    assert (
        canonical_url("http://example.com:8080/x?id=3&gclid=1&mc_cid=2")
        == "http://example.com:8080/x?id=3"
    )


def test_dates_to_utc_and_language_and_text():
    parsed = feedparser.parse(
        "<rss version='2.0'><channel><item><title>t</title><link>http://e.com/a</link>"
        "<pubDate>Mon, 02 Mar 2026 14:30:00 +0200</pubDate></item></channel></rss>"
    )
    at, estimated = published_time(parsed.entries[0].published_parsed, datetime.now(UTC))
    assert at == datetime(2026, 3, 2, 12, 30, tzinfo=UTC) and not estimated
    future = time.gmtime(time.time() + 86400 * 30)
    now = datetime.now(UTC)
    assert published_time(future, now) == (now, True)
    assert (
        language_tag("en-US") == "en"
        and language_tag("de_DE") == "de"
        and language_tag("x1") is None
    )
    assert (
        html_to_text("<p>Hello <b>world</b></p><script>x()</script><p>Two</p>")
        == "Hello world\nTwo"
    )
    assert content_hash("Title", "Same,   words.") == content_hash("TITLE", "Same words")
    assert content_hash("Title", "Same words") != content_hash("Title", "Other words")


async def test_scheduler_sends_a_purge_each_period():
    clock = FixedClock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    world = make_world(clock=clock)
    sender = RecordingCommandSender()
    sched = FeedScheduler(world.repo, sender, clock, purge_every=timedelta(hours=1))
    await sched.tick()
    clock.advance(minutes=30)
    await sched.tick()
    clock.advance(minutes=31)
    await sched.tick()
    purges = [cid for cid, t, _ in sender.commands if t == "news.purge"]
    assert len(purges) == 2 and len(set(purges)) == 2
    assert await FeedScheduler(world.repo, sender, clock).tick() == 0  # no retention: no purge

"""Polling real-format feeds from a feed site (in process): formats, 304s, redirects, malformed
XML, timeouts, Retry-After, the per-host rate limit, full text from the article page."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from agents.news.normalize import feed_id_for
from enginedge_streams.records import Status
from enginedge_streams.testing.clock import FixedClock
from tests.support.news_corpus import story
from tests.support.news_feeds import items_from

from .conftest import make_world, run

pytestmark = pytest.mark.timeout(60)


async def add(world, url, **extra):
    result = await run(world, "feed.add", {"url": url, "poll_interval_seconds": 60, **extra})
    assert result.status is Status.COMPLETED, result.error
    return result.result["feed_id"]


async def poll(world, feed_id, **extra):
    return await run(world, "feed.poll", {"feed_id": feed_id, **extra})


def feed_status(world, feed_id):
    return world.repo.require_feed(feed_id).state


async def test_every_format_ingested_once_and_304_honoured(world, site):
    site.feeds["rss2"] = ("rss2", items_from([story(i) for i in range(3)], "r2"))
    site.feeds["atom"] = ("atom", items_from([story(10 + i) for i in range(2)], "at", full=False))
    site.feeds["rss1"] = ("rss1", items_from([story(20 + i) for i in range(2)], "r1"))
    site.feeds["rss091"] = ("rss091", items_from([story(30)], "r091"))
    ids = {n: await add(world, f"{site.base}/feeds/{n}") for n in site.feeds}

    first = {n: await poll(world, fid) for n, fid in ids.items()}
    for name, result in first.items():
        assert result.status is Status.COMPLETED, (name, result.error)
        assert result.result["status"] == "ok"
    assert {n: r.result["new_articles"] for n, r in first.items()} == {
        "rss2": 3,
        "atom": 2,
        "rss1": 2,
        "rss091": 1,
    }
    assert len(world.state.index) == 8 and len(world.events.articles) == 8
    # Atom entries carry only a summary: the page was fetched and its main text extracted.
    atom_articles = [a for a in world.events.articles if a.feed_id == ids["atom"]]
    for article in atom_articles:
        assert article.text_source == "page"
        assert "Copyright Test News" not in article.text and "Home" not in article.text
        assert len(article.text) > 400
        assert site.hits[f"page:{article.url.rsplit('/', 1)[1][:-5]}"] == 1
    rss2 = [a for a in world.events.articles if a.feed_id == ids["rss2"]]
    assert all(a.text_source == "feed" and a.language == "en" for a in rss2)
    assert all(
        a.published_at.tzinfo is not None and a.published_at.utcoffset() == timedelta(0)
        for a in world.events.articles
    )

    second = {n: await poll(world, fid) for n, fid in ids.items()}
    assert second["rss2"].result["status"] == "not_modified"  # If-None-Match -> 304
    assert second["atom"].result["status"] == "not_modified"  # If-Modified-Since -> 304
    assert site.not_modified["rss2"] == 1 and site.not_modified["atom"] == 1
    assert any(inm for name, inm, _ in site.conditional if name == "rss2")
    assert any(ims for name, _, ims in site.conditional if name == "atom")
    # feeds without validators are compared by body hash: nothing re-ingested either
    assert second["rss1"].result["status"] == "not_modified"
    assert second["rss091"].result["status"] == "unchanged"
    assert len(world.events.articles) == 8
    assert feed_status(world, ids["rss2"]).last_status == "not_modified"

    # a new item appears: the next poll gets 200 and ingests exactly that one
    site.feeds["rss2"][1].append(items_from([story(99)], "r2new")[0])
    third = await poll(world, ids["rss2"])
    assert third.result["new_articles"] == 1 and third.result["known"] == 3
    listed = await run(world, "feed.list", {})
    by_id = {f["feed_id"]: f for f in listed.result["feeds"]}
    assert by_id[ids["rss2"]]["state"]["total_articles"] == 4
    assert by_id[ids["rss2"]]["state"]["last_status"] == "ok"


async def test_malformed_and_timeout_reported_without_stopping_the_others(world, site):
    site.feeds["good"] = ("rss2", items_from([story(40), story(41)], "g"))
    good = await add(world, f"{site.base}/feeds/good")
    broken = await add(world, f"{site.base}/malformed.xml")
    html = await add(world, f"{site.base}/html-page")
    slow = await add(world, f"{site.base}/slow.xml")
    results = await asyncio.gather(*(poll(world, f) for f in (good, broken, html, slow)))
    ok, bad, not_feed, timed_out = results
    assert ok.status is Status.COMPLETED and ok.result["new_articles"] == 2
    assert bad.status is Status.FAILED and bad.error.code == "FEED_MALFORMED"
    assert not_feed.status is Status.FAILED and not_feed.error.code == "FEED_MALFORMED"
    assert timed_out.status is Status.FAILED and timed_out.error.code == "HTTP_TIMEOUT"
    listed = {f["feed_id"]: f["state"] for f in (await run(world, "feed.list", {})).result["feeds"]}
    assert listed[good]["last_status"] == "ok"
    for fid, code in ((broken, "FEED_MALFORMED"), (slow, "HTTP_TIMEOUT")):
        assert listed[fid]["last_status"] == "error"
        assert listed[fid]["last_error_code"] == code
        assert listed[fid]["consecutive_failures"] == 1
    assert (await run(world, "feed.list", {})).result["failing"] == 3


async def test_backoff_doubles_per_failure_and_resets_on_success(site):
    clock = FixedClock(datetime.now(UTC))
    world = make_world(site, clock=clock)
    fid = await add(world, f"{site.base}/malformed.xml")
    delays = []
    for _ in range(3):
        await poll(world, fid)
        st = feed_status(world, fid)
        delays.append((st.next_poll_at - clock.now()).total_seconds())
    assert st.consecutive_failures == 3
    for n, delay in enumerate(delays, start=1):
        assert 60 * 2**n <= delay <= 60 * 2**n * 1.1  # interval * 2^failures + <=10% jitter
    site.feeds["fixed"] = ("rss2", items_from([story(50)], "fx"))
    world.repo.save_feed(
        world.repo.require_feed(fid).model_copy(update={"url": f"{site.base}/feeds/fixed"})
    )
    await poll(world, fid)
    st = feed_status(world, fid)
    assert st.consecutive_failures == 0 and st.last_status == "ok"
    assert (st.next_poll_at - clock.now()).total_seconds() == 60


async def test_retry_after_and_redirect(world, site):
    site.feeds["atom"] = ("atom", items_from([story(60)], "rd"))
    moved = await add(world, f"{site.base}/moved.xml")
    result = await poll(world, moved)
    assert result.result["status"] == "ok" and result.result["new_articles"] == 1
    st = feed_status(world, moved)
    assert st.resolved_url == f"{site.base}/feeds/atom" and site.hits["moved"] == 1
    busy = await add(world, f"{site.base}/gone.xml")
    result = await poll(world, busy)
    assert result.error.code == "HTTP_503"
    wait = (feed_status(world, busy).next_poll_at - datetime.now(UTC)).total_seconds()
    assert wait >= 115  # Retry-After: 120 beats the 60 s * 2 backoff


async def test_per_host_rate_limit_defers_without_a_request(site):
    world = make_world(site, host_rate=2)
    site.feeds["a"] = ("rss2", items_from([story(70)], "ra"))
    fid = await add(world, f"{site.base}/feeds/a")
    assert (await poll(world, fid)).result["status"] == "ok"
    assert (await poll(world, fid, force=True)).result["status"] in ("ok", "unchanged")
    hits = site.hits["a"]
    third = await poll(world, fid, force=True)
    assert third.status is Status.COMPLETED
    assert third.result["status"] == "rate_limited" and third.result["retry_after"] > 0
    assert site.hits["a"] == hits  # no request was made
    assert feed_status(world, fid).last_status == "rate_limited"


async def test_tracking_parameters_do_not_make_a_new_article(world, site):
    s = story(80)
    a = items_from([s], "same")
    b = items_from([s], "same")
    a[0].link_query = "?utm_source=rss&utm_medium=feed&id=7"
    b[0].link_query = "?id=7&fbclid=XYZ&gclid=abc"
    site.feeds["one"], site.feeds["two"] = ("rss2", a), ("atom", b)
    one = await add(world, f"{site.base}/feeds/one")
    two = await add(world, f"{site.base}/feeds/two")
    r1, r2 = await poll(world, one), await poll(world, two)
    assert r1.result["new_articles"] == 1
    assert r2.result["new_articles"] == 0 and r2.result["known"] == 1
    (article,) = world.events.articles
    assert article.url == f"{site.base}/articles/same-0.html?id=7".replace("://127", "://127")
    assert "utm_" not in article.url and article.original_url.endswith("utm_medium=feed&id=7")


async def test_scheduled_poll_for_an_already_polled_slot_is_skipped(world, site):
    site.feeds["s"] = ("rss2", items_from([story(90)], "s"))
    fid = await add(world, f"{site.base}/feeds/s")
    slot = feed_status(world, fid).next_poll_at
    assert (await poll(world, fid, scheduled_for=slot.isoformat())).result["status"] == "ok"
    again = await poll(world, fid, scheduled_for=slot.isoformat())
    assert again.result["status"] == "skipped" and site.hits["s"] == 1


async def test_feed_id_is_stable_for_equivalent_urls():
    assert feed_id_for("https://Example.com/feed?utm_source=x") == feed_id_for(
        "https://example.com/feed"
    )


async def test_a_feed_changed_or_removed_during_its_poll_is_not_overwritten(site):
    from agents.news.fakes import FakeEnricher

    class MeddlingEnricher(FakeEnricher):
        def __init__(self):
            super().__init__()
            self.action = None

        async def enrich(self, title, text, *, category):
            if self.action is not None:
                self.action()
                self.action = None
            return await super().enrich(title, text, category=category)

    enricher = MeddlingEnricher()
    world = make_world(site, enricher=enricher)
    site.feeds["m"] = ("rss2", items_from([story(95)], "m"))
    site.feeds["n"] = ("rss2", items_from([story(96)], "n"))
    fid = await add(world, f"{site.base}/feeds/m")

    def slower():  # feed.add with a new interval while the poll runs
        f = world.repo.require_feed(fid)
        world.repo.save_feed(f.model_copy(update={"poll_interval_seconds": 600}))

    enricher.action = slower
    assert (await poll(world, fid)).result["status"] == "ok"
    f = world.repo.require_feed(fid)
    assert f.poll_interval_seconds == 600 and f.state.last_status == "ok"
    assert (f.state.next_poll_at - f.state.last_polled_at).total_seconds() == 600

    gone = await add(world, f"{site.base}/feeds/n")
    enricher.action = lambda: world.repo.delete_feed(gone)
    assert (await poll(world, gone)).result["new_articles"] == 1
    assert world.repo.feed(gone) is None  # not resurrected by the poll's state write

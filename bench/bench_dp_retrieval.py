"""Data processing: retrieval quality on questions and answers of public origin (issue 19).

The Debian FAQ and Python 3.11's FAQ (pinned Debian packages): each question heading is a
query, its answer (heading removed) the one relevant document. Every answer is ingested
through the real worker (pgvector, MiniLM), every question searched in vector, keyword and
hybrid mode. Reported: hit@1, hit@3, MRR@10 per mode; the "reference" column of the hybrid
rows is the better of vector and keyword (target: hybrid >= it). The fusion's vector weight
(alpha) is cross-validated over the two FAQs: each FAQ's questions run through the worker with
the alpha that scored best on the *other* FAQ's recorded vector and keyword lists
(tests/support/faq_retrieval.choose_alpha); the whole alpha grid is printed for the record.

``--quick``: the first 60 entries; otherwise all (~280).
"""

from __future__ import annotations

import os
import uuid

from bench.common import BenchContext, Row
from tests.support.faq_retrieval import MODES, faq_entries, run_eval
from tests.support.stack import ensure_stack

PG_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/enginedge")


async def run(ctx: BenchContext) -> list[Row]:
    ensure_stack("postgres")
    entries = faq_entries()
    if ctx.quick:
        entries = entries[:60]
    schema = f"bench_r_{uuid.uuid4().hex[:8]}"
    worker = ctx.worker("data_processing", env={"PGVECTOR_SCHEMA": schema, "DATABASE_URL": PG_URL})
    bus = await ctx.bus()
    try:
        scores = await run_eval(bus, entries, "faq", tune=True)
    finally:
        ctx.record_peak(worker)
        worker.stop(timeout=30)
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    note = f"{len(entries)} FAQ questions (Debian FAQ 11.1, Python 3.11 FAQ)"
    folds = ", ".join(f"{faq} at {a}" for faq, a in scores["folds"].items())
    print(f"alpha by 2-fold CV (each FAQ asked with the other's best): {folds}")
    for a, m in scores["grid"].items():
        print(f"  alpha {a}: hit@1 {m['hit@1']:.3f} hit@3 {m['hit@3']:.3f} MRR {m['mrr']:.3f}")
    rows = []
    for metric in ("hit@1", "hit@3", "mrr"):
        best = max(scores["vector"][metric], scores["keyword"][metric])
        for mode in MODES:
            if mode == "hybrid":
                rows.append(Row(f"{metric} hybrid (alpha by CV: {folds}) vs the better mode",
                                scores[mode][metric], best, "", ">= 1x", note))  # fmt: skip
            else:
                rows.append(Row(f"{metric} {mode}", scores[mode][metric], 1.0, "", "", note))
    return rows

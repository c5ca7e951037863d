"""document.search: vector, keyword and hybrid retrieval over any ``VectorStore``.

Hybrid fusion (the same for every store, computed here): a convex combination
of the two lists' scores, each divided by its list's best score,

    score(c) = alpha * s_v(c) / max s_v + (1 - alpha) * s_kw(c) / max s_kw

over the union of the vector top-N and the keyword top-N (N = max(4*top_k, 20));
a chunk missing from a list gets 0 from it. The keyword score is BM25 (pgvector,
Weaviate, in-memory), which saturates in a term's frequency (k1 = 1.2) and is
normalised by length, so a chunk repeating the query's words cannot run away
with the keyword side. Dividing by the best score (not min-max) keeps a chunk's
score independent of how deep N reaches, and the best possible score is 1.

Why not reciprocal rank fusion (used before): on the FAQ evaluation (284
questions of the Debian and Python FAQs, docs/benchmarks.md) rank fusion stayed
below vector search alone at every weight (its ranks throw away how much better
the first hit is than the second), while this combination beats both lists at
the weight 2-fold cross-validation picks (0.75 / 0.85), the default 0.8.
Ties break on document id, then chunk index.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from agents.data_processing.messages import SearchDocuments
from agents.data_processing.model import Hit
from agents.data_processing.ports import Embedder, VectorStore
from enginedge_streams.documents.text import fold

FORMULA = "alpha*vector/max(vector) + (1-alpha)*keyword/max(keyword) (convex combination)"


def fuse(
    vector_hits: list[Hit], keyword_hits: list[Hit], alpha: float, top_k: int
) -> list[tuple[Hit, float, float | None, float | None]]:
    """(hit, fused score, vector score, keyword score), best first."""
    by_id: dict[str, Hit] = {}
    vec: dict[str, float] = {}
    kw: dict[str, float] = {}
    fused_score: dict[str, float] = {}
    for weight, hits, raw in ((alpha, vector_hits, vec), (1 - alpha, keyword_hits, kw)):
        best = max((h.score for h in hits), default=0.0)
        for h in hits:
            if h.chunk_id in raw:
                continue
            by_id.setdefault(h.chunk_id, h)
            raw[h.chunk_id] = h.score
            share = h.score / best if best > 0 else 0.0
            fused_score[h.chunk_id] = fused_score.get(h.chunk_id, 0.0) + weight * share
    fused = [(hit, fused_score[cid], vec.get(cid), kw.get(cid)) for cid, hit in by_id.items()]
    fused.sort(key=lambda t: (-t[1], t[0].document_id, t[0].index))
    return fused[:top_k]


async def handle_search(
    cmd: SearchDocuments, *, store: VectorStore, embedder: Embedder
) -> dict[str, Any]:
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    filters = dict(cmd.filter)
    query = fold(cmd.query)  # chunks are NFKC-folded: so is the query (ligatures, full-width)
    rows: list[dict[str, Any]] = []
    fallback: str | None = None
    if cmd.mode in ("vector", "hybrid"):
        e0 = time.perf_counter()
        vector = (await embedder.embed([query]))[0].tolist()
        timings["embed_ms"] = (time.perf_counter() - e0) * 1000
    s0 = time.perf_counter()
    if cmd.mode == "vector":
        hits = await store.search_vector(cmd.collection, vector, cmd.top_k, filters)
        rows = [{**h.to_dict(), "vector_score": round(h.score, 6)} for h in hits]
    elif cmd.mode == "keyword":
        hits = await store.search_keyword(cmd.collection, query, cmd.top_k, filters)
        rows = [{**h.to_dict(), "keyword_score": round(h.score, 6)} for h in hits]
    elif not getattr(store, "supports_keyword", True):  # e.g. Pinecone: vectors only
        hits = await store.search_vector(cmd.collection, vector, cmd.top_k, filters)
        rows = [{**h.to_dict(), "vector_score": round(h.score, 6)} for h in hits]
        fallback = "vector"
    else:
        n = max(4 * cmd.top_k, 20)
        vec_hits, kw_hits = await asyncio.gather(
            store.search_vector(cmd.collection, vector, n, filters),
            store.search_keyword(cmd.collection, query, n, filters),
        )
        for hit, score, v, k in fuse(vec_hits, kw_hits, cmd.alpha, cmd.top_k):
            rows.append(
                {
                    **hit.to_dict(),
                    "score": round(score, 6),
                    "vector_score": None if v is None else round(v, 6),
                    "keyword_score": None if k is None else round(k, 6),
                }
            )
    timings["search_ms"] = (time.perf_counter() - s0) * 1000
    if cmd.min_score is not None:
        rows = [r for r in rows if r["score"] >= cmd.min_score]
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    timings["total_ms"] = (time.perf_counter() - t0) * 1000
    out: dict[str, Any] = {
        "query": cmd.query,
        "collection": cmd.collection,
        "mode": cmd.mode,
        "top_k": cmd.top_k,
        "results": rows,
        "embedding_model": embedder.model_name,
        "store": store.name,
        "timings": {k: round(v, 2) for k, v in timings.items()},
    }
    if cmd.mode == "hybrid":
        out["alpha"] = cmd.alpha
        out["formula"] = FORMULA
    if fallback:
        out["fallback"] = fallback  # the store has no full-text index
    return out

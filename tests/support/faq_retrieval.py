"""A retrieval evaluation of public origin: the Debian FAQ (debian-faq 11.1) and Python 3.11's
FAQ (python3.11-doc), both pinned Debian packages (tests/support/document_corpus.py).

Each FAQ entry whose heading is a question becomes one query (the heading, its section
number and pilcrow removed) and one document: the entry's answer, *without* the heading, and
without the nested entries (each is its own document). Nobody here wrote either side.

``evaluate`` ranks documents (a document's rank is that of its best chunk) and reports
hit@1, hit@3 and MRR (reciprocal rank of the relevant document within the top 10, else 0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.document_corpus import deb

_NUMBER = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?)\s*")
SECTION_TAGS = ("section", "div")
HEADINGS = ("h1", "h2", "h3", "h4", "h5")
MIN_ANSWER_CHARS = 80


@dataclass(frozen=True)
class Entry:
    doc_id: str
    question: str
    answer: str
    source: str


def _heading_text(el: Any) -> str:
    text = " ".join(el.text_content().replace("¶", " ").split())
    return _NUMBER.sub("", text).strip()


def _answer(section: Any, heading: Any) -> str:
    """The section's text minus its heading and minus nested sections."""
    parts: list[str] = []

    def walk(el: Any) -> None:
        for child in el:
            if not isinstance(child.tag, str) or child is heading:
                continue
            if _is_section(child):
                continue  # a nested entry is its own document
            if child.tag in ("script", "style"):
                continue
            if child.tag in HEADINGS or (
                child.tag == "div" and "titlepage" in child.get("class", "")
            ):
                continue
            parts.append(child.text_content())

    walk(section)
    return "\n".join(" ".join(p.split()) for p in parts if p.strip())


def _is_section(el: Any) -> bool:
    return el.tag == "section" or (el.tag == "div" and "section" in el.get("class", "").split())


def entries_from_html(data: bytes, source: str) -> list[Entry]:
    import lxml.html

    root = lxml.html.document_fromstring(data)
    out = []
    for n, section in enumerate(
        el for el in root.iter() if isinstance(el.tag, str) and _is_section(el)
    ):
        heading = next((h for h in section.iter(*HEADINGS)), None)
        if heading is None:
            continue
        question = _heading_text(heading)
        if not question.endswith("?"):
            continue
        answer = _answer(section, heading)
        if len(answer) < MIN_ANSWER_CHARS:
            continue
        out.append(Entry(f"{source}-{n}".replace(".", "-"), question, answer, source))
    return out


def faq_entries() -> list[Entry]:
    entries: list[Entry] = []
    debian = deb("debian-faq") / "usr/share/doc/debian/FAQ"
    for path in sorted(debian.glob("*.en.html")):  # the English pages (the others are links)
        if path.name.startswith("index"):
            continue
        entries += entries_from_html(path.read_bytes(), f"debian-faq/{path.stem}")
    python = deb("python3.11-doc") / "usr/share/doc/python3.11/html/faq"
    for path in sorted(python.glob("*.html")):
        if path.name == "index.html":
            continue
        entries += entries_from_html(path.read_bytes(), f"python-faq/{path.stem}")
    seen: set[str] = set()
    unique = []
    for e in entries:  # a question asked twice is ambiguous: keep the first
        if e.question.lower() not in seen:
            seen.add(e.question.lower())
            unique.append(e)
    return unique


def metrics(ranks: list[int | None]) -> dict[str, float]:
    """hit@1, hit@3 and MRR@10 of the relevant documents' 1-based ranks (None: not found)."""
    n = len(ranks) or 1
    return {
        "hit@1": sum(r == 1 for r in ranks) / n,
        "hit@3": sum(r is not None and r <= 3 for r in ranks) / n,
        "mrr": sum(1 / r for r in ranks if r is not None and r <= 10) / n,
    }


def document_rank(results: list[dict[str, Any]], doc_id: str) -> int | None:
    """Rank of ``doc_id`` among the distinct documents of a result list (best chunk counts)."""
    docs: list[str] = []
    for r in results:
        if r["document_id"] not in docs:
            docs.append(r["document_id"])
    return docs.index(doc_id) + 1 if doc_id in docs else None


def ensure_paths() -> tuple[Path, Path]:
    return deb("debian-faq"), deb("python3.11-doc")


MODES = ("vector", "keyword", "hybrid")
ALPHAS = tuple(round(0.05 * i, 2) for i in range(6, 20))  # 0.3 .. 0.95 (1.0 = vector alone)
LIST_DEPTH = 100  # each single-mode list, as the worker's hybrid fuses (its N is max(4k, 20))


def _hits(results: list[dict[str, Any]]) -> list[Any]:
    from agents.data_processing.model import Hit

    return [
        Hit(r["chunk_id"], r["document_id"], r["collection"], r["chunk_index"], "", r["score"],
            None, [], 0, 0, {})
        for r in results
    ]  # fmt: skip


def fused_ranks(
    lists: list[tuple[list[Any], list[Any]]], doc_ids: list[str], alpha: float
) -> list[int | None]:
    """The worker's fusion (agents.data_processing.search.fuse) over recorded lists."""
    from agents.data_processing.search import fuse

    out = []
    for (vec, kw), doc_id in zip(lists, doc_ids, strict=True):
        fused = fuse(vec, kw, alpha, LIST_DEPTH)
        out.append(document_rank([{"document_id": h.document_id} for h, *_ in fused], doc_id))
    return out


def choose_alpha(
    lists: list[tuple[list[Any], list[Any]]], entries: list[Entry]
) -> dict[str, float]:
    """The vector weight of the fusion by 2-fold cross-validation over the two FAQs: for each
    FAQ, the alpha with the best MRR on the *other* FAQ's recorded lists (ties: the smaller).
    Returns {FAQ: the alpha its questions are answered with}; no FAQ's own questions choose
    its weight."""
    folds = sorted({_fold(e) for e in entries})
    picked: dict[str, float] = {}
    for fold in folds:
        train = [i for i, e in enumerate(entries) if _fold(e) != fold]

        def mrr(alpha: float, idx: list[int] = train) -> float:
            sub = [lists[i] for i in idx]
            return metrics(fused_ranks(sub, [entries[i].doc_id for i in idx], alpha))["mrr"]

        picked[fold] = max(ALPHAS, key=lambda a: (mrr(a), -a))
    return picked


def _fold(e: Entry) -> str:
    return e.source.split("/")[0]


async def run_eval(
    bus: Any,
    entries: list[Entry],
    collection: str,
    *,
    concurrency: int = 4,
    alpha: float | None = None,
    tune: bool = False,
) -> dict[str, Any]:
    """Ingest every answer through the real worker, ask every question in vector and keyword
    mode (lists recorded), then in hybrid mode with ``alpha`` (None: the worker's default), or
    with ``tune``: each FAQ's questions with the alpha :func:`choose_alpha` picked on the
    other FAQ's recorded lists (``folds``; ``grid``: every alpha on the whole set, for the
    record only)."""
    import asyncio
    import base64

    sem = asyncio.Semaphore(concurrency)

    async def call(command_type: str, payload: dict[str, Any]) -> dict[str, Any]:
        async with sem:
            r = await bus.call("data_processing", command_type, payload, timeout=600)
        if r.status.value != "COMPLETED":
            raise AssertionError(f"{command_type} failed: {r.error}")
        result: dict[str, Any] = r.result
        return result

    await asyncio.gather(*(
        call("document.ingest", {
            "collection": collection,
            "document_id": e.doc_id,
            "source": {"kind": "inline", "filename": "answer.txt",
                       "content_base64": base64.b64encode(e.answer.encode()).decode()},
        })
        for e in entries
    ))  # fmt: skip

    async def results(
        mode: str, top_k: int, alpha: float | None, asked: list[Entry]
    ) -> list[list[dict[str, Any]]]:
        async def one(e: Entry) -> list[dict[str, Any]]:
            payload: dict[str, Any] = {"collection": collection, "query": e.question,
                                       "mode": mode, "top_k": top_k}  # fmt: skip
            if mode == "hybrid" and alpha is not None:
                payload["alpha"] = alpha
            found: list[dict[str, Any]] = (await call("document.search", payload))["results"]
            return found

        return list(await asyncio.gather(*(one(e) for e in asked)))

    ids = [e.doc_id for e in entries]
    out: dict[str, Any] = {}
    recorded = {}
    for mode in ("vector", "keyword"):
        recorded[mode] = await results(mode, LIST_DEPTH, None, entries)
        out[mode] = metrics([document_rank(r, d) for r, d in zip(recorded[mode], ids, strict=True)])
    pairs = [(_hits(v), _hits(k)) for v, k in zip(recorded["vector"], recorded["keyword"],
                                                    strict=True)]  # fmt: skip
    if tune:
        out["folds"] = choose_alpha(pairs, entries)
        out["grid"] = {a: metrics(fused_ranks(pairs, ids, a)) for a in ALPHAS}
        ranks: dict[str, int | None] = {}
        for fold, fold_alpha in out["folds"].items():  # through the worker: the figure reported
            part = [e for e in entries if _fold(e) == fold]
            found = await results("hybrid", 30, fold_alpha, part)
            ranks |= {
                e.doc_id: document_rank(r, e.doc_id) for r, e in zip(found, part, strict=True)
            }
        out["hybrid"] = metrics([ranks[d] for d in ids])
        return out
    out["alpha"] = alpha
    hybrid = await results("hybrid", 30, alpha, entries)  # through the worker
    out["hybrid"] = metrics([document_rank(r, d) for r, d in zip(hybrid, ids, strict=True)])
    return out

"""`python -m bench.interview_grading`: rules vs the local model as the interview grader.

The evaluation set is ours (``bench/data/interview_grading_eval.json``: 31 answers to 8
seeded questions, written and scored by hand; no public graded interview answers ship in a
package). Each answer is scored by the rule-based evaluator and by the local model through
the interview worker's own grading call (``BusAnswerGrader``: the same ``assistant.complete``
payload, sent here straight to a ``llama-server`` with the packaged model) and its
validation (:mod:`agents.interview.grade_validation`). Paths compared against the hand
reference: ``rules``; ``llm+validation`` (the model's score where it validates, the rule
score otherwise: what the report does); ``llm raw`` (every parseable score, for reference).
Metrics: mean absolute error, Spearman rank correlation, and the share of same-question
answer pairs ordered as the reference orders them. Not part of ``make bench`` (minutes per
model); the figures go to docs/benchmarks.md by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from itertools import combinations
from pathlib import Path
from typing import Any

import httpx

from agents.interview.bank import seeded_questions
from agents.interview.bus_adapters import BusAnswerGrader
from agents.interview.grade_validation import DEFAULT_MAX_DEVIATION, check_grade
from agents.interview.scoring import DEFAULT_RULE_WEIGHTS, grading_prompt, rule_score

EVAL = Path(__file__).resolve().parent / "data" / "interview_grading_eval.json"


class LlamaServerCaller:
    """A ``BusCaller`` stand-in: ``assistant.complete`` sent to a llama-server's chat API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.seconds: list[float] = []

    async def available(self, worker: str, *, timeout: float = 3.0) -> bool:
        return True

    async def call(
        self, worker: str, command: str, payload: dict[str, Any], *, timeout: float
    ) -> dict[str, Any]:
        messages = [{"role": "user", "content": payload["prompt"]}]
        if payload.get("system"):
            messages.insert(0, {"role": "system", "content": payload["system"]})
        body = {
            "messages": messages,
            "max_tokens": payload.get("max_tokens", 300),
            "temperature": payload.get("temperature", 0.0),
        }
        start = time.perf_counter()
        async with httpx.AsyncClient() as client:
            resp = await client.post(f"{self.base_url}/chat/completions", json=body, timeout=900)
        resp.raise_for_status()
        self.seconds.append(time.perf_counter() - start)
        return {"text": resp.json()["choices"][0]["message"]["content"] or ""}


def spearman(xs: list[float], ys: list[float]) -> float:
    def ranks(v: list[float]) -> list[float]:
        order = sorted(range(len(v)), key=lambda i: v[i])
        out = [0.0] * len(v)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
                j += 1
            for k in range(i, j + 1):
                out[order[k]] = (i + j) / 2
            i = j + 1
        return out

    rx, ry = ranks(xs), ranks(ys)
    mx, my = statistics.mean(rx), statistics.mean(ry)
    num = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    den = (sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry)) ** 0.5
    return num / den if den else 0.0


def pair_order(rows: list[dict[str, Any]], key: str) -> float:
    right = total = 0
    for a, b in combinations(rows, 2):
        if a["question_id"] != b["question_id"] or a["reference"] == b["reference"]:
            continue
        total += 1
        want = a["reference"] > b["reference"]
        right += (a[key] > b[key]) == want and a[key] != b[key]
    return right / total if total else 0.0


def metrics(rows: list[dict[str, Any]], key: str) -> dict[str, float]:
    ref = [float(r["reference"]) for r in rows]
    got = [float(r[key]) for r in rows]
    return {
        "mae": statistics.mean(abs(a - b) for a, b in zip(ref, got, strict=True)),
        "spearman": spearman(ref, got),
        "pairs": pair_order(rows, key),
    }


def interleaved(items: list[dict[str, Any]], key: str = "kind") -> list[dict[str, Any]]:
    """One item of each ``key`` (kind of answer) in turn, so that a run cut short (a loaded
    machine: minutes per reply) still spans strong, partial, weak and tricky answers."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        groups.setdefault(item[key], []).append(item)
    out: list[dict[str, Any]] = []
    while any(groups.values()):
        out.extend(group.pop(0) for group in groups.values() if group)
    return out


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    reasons: dict[str, int] = {}
    for r in rows:
        reasons[r["reason"]] = reasons.get(r["reason"], 0) + 1
    seconds = [r["seconds"] for r in rows if r.get("seconds")]
    middle = statistics.median(r["reference"] for r in rows) if rows else 0
    baseline = [{**r, "constant": middle} for r in rows]  # one score for every answer
    return {
        "items": len(rows),
        f"constant {middle:g} (baseline)": metrics(baseline, "constant"),
        "rules": metrics(rows, "rules"),
        "llm+validation": metrics(rows, "validated"),
        "llm raw (unparseable -> rule score)": metrics(rows, "llm_raw"),
        "parsed": sum(r["llm_parsed"] for r in rows),
        "reasons": reasons,
        "median_seconds_per_reply": statistics.median(seconds) if seconds else None,
    }


async def run(url: str, max_deviation: int, verbose: bool, skip: set[str]) -> list[dict[str, Any]]:
    data = json.loads(EVAL.read_text())
    bank = seeded_questions()
    caller = LlamaServerCaller(url)
    grader = BusAnswerGrader(caller, timeout=900)  # type: ignore[arg-type]
    rows = []
    for item in interleaved([i for i in data["items"] if i["id"] not in skip]):
        q, answer = bank[item["question_id"]], item["answer"]
        rules = rule_score(q, answer, None, spoken=False, weights=dict(DEFAULT_RULE_WEIGHTS))
        raw = await grader.grade(grading_prompt(q, answer))
        check = check_grade(raw, q, answer, rules, max_deviation=max_deviation)
        row = {
            "id": item["id"],
            "question_id": item["question_id"],
            "kind": item["kind"],
            "reference": item["reference"],
            "rules": rules["score"],
            "llm_raw": check.llm_score if check.llm_score is not None else rules["score"],
            "llm_parsed": check.llm_score is not None,
            "validated": check.verdict["score"] if check.verdict else rules["score"],
            "reason": check.reason or "VALID",
            "seconds": round(caller.seconds[-1], 1),
            "load": round(os.getloadavg()[0], 1),
            "reply": raw,
        }
        rows.append(row)
        if verbose:
            print(json.dumps(row), flush=True)
    return rows


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows printed by ``-v`` (JSON lines; other lines ignored), the last of each id kept."""
    rows = [json.loads(x) for x in path.read_text().splitlines() if x.startswith('{"id"')]
    return list({r["id"]: r for r in rows}.values())


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="A running llama-server's /v1 URL (default: start one).")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-deviation", type=int, default=DEFAULT_MAX_DEVIATION)
    parser.add_argument(
        "--rows", type=Path, help="Summarise the rows (JSON lines, from -v) of an earlier run."
    )
    parser.add_argument(
        "--skip", type=Path, help="Skip the items already in these rows (resume a cut run)."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="Print each row.")
    args = parser.parse_args()
    if args.rows:
        print(json.dumps(summary(read_rows(args.rows)), indent=2))
        return
    skip = {r["id"] for r in read_rows(args.skip)} if args.skip else set()
    server = None
    url = args.url
    if url is None:
        from agents.llm.llama_server import LlamaServer
        from agents.llm.local_models import materialize

        server = LlamaServer(materialize(args.model), n_ctx=4096, n_threads=args.threads)
        await server.start()
        url = server.base_url
    try:
        rows = await run(url, args.max_deviation, args.verbose, skip)
    finally:
        if server is not None:
            await server.stop()
    print(json.dumps({"model": args.model, **summary(rows)}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())

"""Interview: speech-to-text real-time factor (faster-whisper tiny.en) on espeak-ng audio.

Worker under load: the real interview worker (local defaults: faster-whisper in the worker,
the spaCy worker started here for the speech analysis; no LLM or LaTeX worker runs, so the
rule-based evaluator and the reportlab PDF, set explicitly rather than left to ``auto``, which
would first wait 3 s for each of those workers to answer; MAX_CONCURRENCY 4) driven over Kafka
by concurrent
full sessions of the seeded ``software-engineer`` template (4 phases, 6 questions): start,
typed answers and one spoken answer (the espeak-ng clip, transcribed in the worker) until the
session completes (follow-ups included), the report with its PDF, and ``interview.get``; every
result checked. Its peak RSS (``VmHWM``, read before it stops) vs its memory limit.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from typing import Any

from bench.common import BenchContext, Commands, Row

TEXT = (
    "I led a small team that built a new payment service. We tested every change and we "
    "shipped it on time. First I would talk to the users, then I would write a simple plan."
)
ANSWERS = [
    "When I was working at Acme our team disagreed about the database. My task was to choose "
    "one. I decided to gather data and evidence, we listened and reached a compromise. As a "
    "result latency improved by 30% and we shipped on time.",
    "I would start from the requirements and the expected load, then design the API and the "
    "data model. We would use a cache in front of the database, a queue for slow work and "
    "indexes for the common queries, and measure latency and throughput with load tests before "
    "scaling out horizontally behind a load balancer.",
    "I would write a function that walks the input once with a hash map, so the time complexity "
    "is O(n) and the memory is O(n). I would test the edge cases first: an empty list, one "
    "element, duplicates and very large inputs, then refactor for readability.",
    "For the system design I would split reads and writes, shard the data by user id, replicate "
    "each shard, and add monitoring, retries with backoff and idempotent consumers so failures "
    "do not lose or duplicate events. Consistency, availability and cost are the trade-offs.",
]
TEMPLATE = "software-engineer"


async def worker_under_load(ctx: BenchContext, audio: bytes) -> Row:
    """Full sessions through the real worker over Kafka (spaCy worker running)."""
    sessions = ctx.size(2, 8, 24)
    t_start = time.perf_counter()
    ctx.worker("spacy")
    worker = ctx.worker(
        "interview",
        env={
            "INTERVIEW_EVALUATOR": "rules",
            "INTERVIEW_REPORT_RENDERER": "reportlab",
        },
    )
    ok = Commands(await ctx.bus(), "interview", timeout=180)
    await ok("system.ping", {})
    spoken = {"content_base64": base64.b64encode(audio).decode(), "format": "wav"}
    run_id = uuid.uuid4().hex[:8]
    counts = {"answers": 0, "spoken": 0, "pdf_bytes": 0}

    async def session(k: int) -> None:
        sid = f"bench-{run_id}-{k}"
        await ok(
            "interview.start",
            {"template_id": TEMPLATE, "candidate": {"name": f"Candidate {k}"}, "session_id": sid},
        )
        for turn in range(30):  # 6 questions and their follow-ups
            if turn == 1:
                answer: dict[str, Any] = {"audio": spoken}
            else:
                answer = {"text": ANSWERS[(k + turn) % len(ANSWERS)]}
            got = await ok("interview.respond", {"session_id": sid, **answer})
            counts["answers"] += 1
            if got["accepted"]["source"] == "audio":
                if "payment service" not in got["accepted"]["text"].lower():
                    raise RuntimeError(f"interview: the spoken answer heard as {got['accepted']}")
                counts["spoken"] += 1
            if got["completed"]:
                break
        else:
            raise RuntimeError(f"interview session {sid} not completed after 30 answers")
        report = await ok("interview.report", {"session_id": sid})
        pdf = report.get("pdf") or {}
        if len(report["phases"]) != 4 or pdf.get("size", 0) < 1000:
            raise RuntimeError(f"interview report of {sid}: {report}")
        counts["pdf_bytes"] += pdf["size"]
        view = await ok("interview.get", {"session_id": sid})
        if view["state"] != "completed" or view["report"] is None:
            raise RuntimeError(f"interview.get {sid}: state {view['state']}")

    t0 = time.perf_counter()
    started = t0 - t_start
    await asyncio.gather(*(session(k) for k in range(sessions)))
    elapsed = time.perf_counter() - t0
    return ctx.peak_row(
        worker,
        f"interview worker: peak RSS under {sessions} concurrent full sessions vs memory limit",
        f"`{TEMPLATE}` template: {counts['answers']} answers ({counts['spoken']} spoken, "
        f"transcribed in the worker), {sessions} reports with PDF "
        f"({counts['pdf_bytes'] / sessions / 1024:.0f} KiB each); {ok.count} commands "
        f"in {elapsed:.1f}s (workers ready in {started:.0f}s), MAX_CONCURRENCY 4",
    )


async def run(ctx: BenchContext) -> list[Row]:
    from agents.interview.faster_whisper_transcriber import FasterWhisperTranscriber
    from tests.support.speech import speak, wer

    audio = speak(TEXT)
    stt = FasterWhisperTranscriber()
    await stt.start()
    await stt.transcribe(audio, audio_format="wav")  # warm-up
    runs = 2 if ctx.quick else 5
    t0 = time.perf_counter()
    for _ in range(runs):
        out = await stt.transcribe(audio, audio_format="wav")
    elapsed = (time.perf_counter() - t0) / runs
    await stt.stop()
    return [
        Row(
            "STT seconds per second of audio (real-time factor)",
            elapsed / out.duration_seconds,
            1.0,
            "s/s",
            "< 1x",
            f"{out.duration_seconds:.1f}s espeak-ng clip, WER {wer(TEXT, out.text):.3f}, "
            "reference = real time",
        ),
        await worker_under_load(ctx, audio),
    ]

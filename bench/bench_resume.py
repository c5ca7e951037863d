"""Resume: parses/s in-process vs a bare pdfplumber text dump; spaCy calls batched vs one by one.

Worker under load: the real resume worker (local defaults: the bus to the spaCy worker started
here; MiniLM embeddings in-process, ``RESUME_EMBEDDINGS=local`` set explicitly as no data
processing worker runs, which ``auto`` would first wait 3 s for; MAX_CONCURRENCY 4)
driven over Kafka, 8 commands in flight: job postings stored with ``posting.extract`` (text and
HTML), the generated PDF/DOCX resumes parsed and stored with ``resume.parse``, each matched
against a posting (``resume.match``, embeddings) and evaluated (``resume.evaluate``: every
bullet through spaCy), plus single ``resume.evaluate_bullet`` commands; every result checked.
Its peak RSS (``VmHWM``, read before it stops) vs its memory limit, commands/s in the notes.
"""

from __future__ import annotations

import asyncio
import base64
import io
import time

from bench.common import BenchContext, Commands, Row
from enginedge_streams.client import BusClient

IN_FLIGHT = 8
POSTINGS = [
    {
        "text": "Senior Backend Engineer at Initech\n"
        "Location: Austin, TX (Remote). Full-time. $150,000 - $180,000 per year\n"
        "Responsibilities:\n- Build event-driven data pipelines and APIs\n"
        "Requirements:\n- 5+ years with Python\n- Kubernetes, Docker and PostgreSQL\n- Kafka\n"
        "Nice to have:\n- GraphQL\n- Terraform\n"
    },
    {
        "html": "<html><body><h1>Data Engineer</h1><p>Globex, New York, NY. Hybrid.</p>"
        "<h2>What you will do</h2><ul><li>Own our Spark and Airflow pipelines</li>"
        "<li>Model data in SQL for analysts</li></ul><h2>Requirements</h2><ul>"
        "<li>3+ years of Python or Java</li><li>Spark, Kafka, Airflow</li>"
        "<li>Bachelor's degree in Computer Science</li></ul><h2>Preferred</h2>"
        "<ul><li>Tableau</li><li>AWS</li></ul></body></html>"
    },
    {
        "text": "Frontend Engineer (TypeScript/React)\nHooli - Remote (US)\n"
        "You will build our design system and customer dashboards.\n"
        "Must have: 4+ years of TypeScript, React, Node.js, GraphQL.\n"
        "Nice to have: Redis, Terraform, accessibility experience.\n"
    },
]


async def worker_under_load(ctx: BenchContext, bus: BusClient) -> Row:
    """Parse, match and evaluate through the real worker over Kafka (spaCy worker running)."""
    from tests.support.resume_corpus import corpus

    items = corpus()
    n = ctx.size(4, 24, 96)
    t_start = time.perf_counter()
    worker = ctx.worker("resume", env={"RESUME_EMBEDDINGS": "local"})
    ok = Commands(bus, "resume", in_flight=IN_FLIGHT, timeout=180)
    await ok("system.ping", {})
    bullets = 0

    async def resume_flow(k: int) -> None:
        nonlocal bullets
        item = items[k % len(items)]
        source = {
            "content_base64": base64.b64encode(item.data).decode(),
            "filename": f"{item.name}.{item.kind}",
        }
        parsed = await ok("resume.parse", {"source": source, "resume_id": f"cand-{k}"})
        if parsed["contact"]["email"] != item.label["email"]:
            raise RuntimeError(f"resume.parse of {item.name}: {parsed['contact']}")
        posting = {"posting_id": f"job-{k % len(POSTINGS)}"}
        matched = await ok("resume.match", {"resume": {"resume_id": f"cand-{k}"}, "job": posting})
        if not 0 <= matched["score"] <= 100:
            raise RuntimeError(f"resume.match score {matched['score']}")
        evaluated = await ok(
            "resume.evaluate", {"resume": {"resume_id": f"cand-{k}"}, "job": posting}
        )
        bullets += len(evaluated["bullets"])
        for job in item.label["experience"][:2]:
            await ok("resume.evaluate_bullet", {"bullet": job["bullets"][0], "role": job["title"]})

    t0 = time.perf_counter()
    started = t0 - t_start
    await asyncio.gather(
        *(ok("posting.extract", {**p, "posting_id": f"job-{i}"}) for i, p in enumerate(POSTINGS))
    )
    await asyncio.gather(*(resume_flow(k) for k in range(n)))
    elapsed = time.perf_counter() - t0
    return ctx.peak_row(
        worker,
        f"resume worker: peak RSS under {n} resumes parsed, matched and evaluated vs memory limit",
        f"{len(POSTINGS)} postings, {n} PDF/DOCX parses, {n} matches, {n} evaluations "
        f"({bullets} bullets), {2 * n} single bullets: {ok.count} commands "
        f"in {elapsed:.1f}s = {ok.count / elapsed:.1f}/s (worker ready in {started:.0f}s), "
        f"{IN_FLIGHT} in flight, MAX_CONCURRENCY 4; spaCy worker MAX_CONCURRENCY 8",
    )


async def run(ctx: BenchContext) -> list[Row]:
    import pdfplumber

    from agents.resume.fakes import InProcessNlpClient
    from agents.resume.handlers import ResumePolicy, parse_source
    from agents.resume.messages import ResumeSource
    from agents.resume.spacy_skill_gazetteer import SpacySkillGazetteer
    from tests.support.resume_corpus import corpus

    items = [i for i in corpus() if i.kind == "pdf"]
    n = 12 if ctx.quick else 60
    gaz = SpacySkillGazetteer()
    gaz.load()
    nlp = InProcessNlpClient()
    t0 = time.perf_counter()
    for k in range(n):
        item = items[k % len(items)]
        src = ResumeSource(content_base64=base64.b64encode(item.data).decode(), filename="cv.pdf")
        await parse_source(src, nlp=nlp, gazetteer=gaz, policy=ResumePolicy())
    ours = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for k in range(n):
        with pdfplumber.open(io.BytesIO(items[k % len(items)].data)) as pdf:
            "".join(p.extract_text() or "" for p in pdf.pages)
    ref = n / (time.perf_counter() - t0)

    ctx.worker("spacy", env={"MAX_CONCURRENCY": "8"})
    bus = await ctx.bus()
    from agents.resume.bus_nlp_client import BusNlpClient
    from enginedge_streams.adapters.kafka_bus_caller import KafkaBusCaller

    bullets = [b for i in corpus() for job in i.label["experience"] for b in job["bullets"]][:20]
    await bus.call("spacy", "nlp.analyze", {"text": "warm up"}, timeout=120)
    rounds = 3 if ctx.quick else 10
    timings = {}
    for batch in (True, False):
        client = BusNlpClient(KafkaBusCaller(bus), batch=batch, timeout=120)
        t0 = time.perf_counter()
        for _ in range(rounds):
            await client.analyze_many(bullets)
        timings[batch] = (time.perf_counter() - t0) / rounds
    under_load = await worker_under_load(ctx, bus)
    return [
        Row(
            "resume.parse (PDF, in-process) vs pdfplumber text only",
            ours,
            ref,
            "resumes/s",
            "",
            f"{n} generated PDFs; ours adds layout, sections, skills gazetteer",
        ),
        Row(
            "20 bullets through the spaCy worker: batched vs one command each",
            timings[True] * 1000,
            timings[False] * 1000,
            "ms",
            "< 1x",
            "batched = one nlp.analyze for all bullets; reference = 20 concurrent commands",
        ),
        under_load,
    ]

"""Resume: parses/s in-process vs a bare pdfplumber text dump; spaCy calls batched vs one by one."""

from __future__ import annotations

import asyncio
import base64
import io
import time

from bench.common import BenchContext, Row


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

    bullets = [b for i in corpus() for job in i.label["experience"] for b in job["bullets"]][:20]
    await bus.call("spacy", "nlp.analyze", {"text": "warm up"}, timeout=120)
    rounds = 3 if ctx.quick else 10
    timings = {}
    for batch in (True, False):
        client = BusNlpClient(bus, batch=batch, timeout=120)
        t0 = time.perf_counter()
        for _ in range(rounds):
            await client.analyze_many(bullets)
        timings[batch] = (time.perf_counter() - t0) / rounds
    await asyncio.sleep(0)
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
    ]

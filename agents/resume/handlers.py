"""Resume worker handlers: plain async functions over the NLP, embedding, skills and store ports."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agents.resume import bullets, evaluation, grounding, postings
from agents.resume.compute import extract_step
from agents.resume.documents import LayoutLimits, extract_text
from agents.resume.evaluation import Gates
from agents.resume.matching import DEFAULT_MATCH_WEIGHTS, MatchPolicy, match
from agents.resume.messages import (
    EvaluateBullet,
    EvaluateResume,
    ExtractPosting,
    GetStored,
    GroundBullets,
    JobSource,
    MatchResume,
    ParseResume,
    ResumeRef,
    ResumeSource,
)
from agents.resume.ports import DocumentStore, Embedder, NlpClient, SkillGazetteer
from agents.resume.resume import all_bullets, parse
from enginedge_streams.compute import InlineComputePool
from enginedge_streams.errors import NotFoundError
from enginedge_streams.handlers import CommandContext, CommandSpec
from enginedge_streams.ports.compute_pool import ComputePool


@dataclass(frozen=True)
class ResumePolicy:
    bullet: bullets.BulletPolicy = field(
        default_factory=lambda: bullets.BulletPolicy(dict(bullets.DEFAULT_WEIGHTS))
    )
    match: MatchPolicy = field(default_factory=lambda: MatchPolicy(dict(DEFAULT_MATCH_WEIGHTS)))
    gates: Gates = field(default_factory=Gates)
    layout: LayoutLimits = field(default_factory=LayoutLimits)


#: For callers without the worker's pool (tests, benchmarks): steps run inline.
INLINE = InlineComputePool()


async def parse_source(
    source: ResumeSource,
    *,
    nlp: NlpClient,
    gazetteer: SkillGazetteer,
    policy: ResumePolicy,
    compute: ComputePool = INLINE,
) -> dict[str, Any]:
    if source.text is not None:
        extracted = extract_text(source.text)
    else:
        extracted = await compute.run(
            extract_step, source.content(), source.filename, source.mime_type, policy.layout
        )
    return await parse(extracted, gazetteer=gazetteer, nlp=nlp)


async def resolve_resume(
    ref: ResumeRef,
    *,
    nlp: NlpClient,
    gazetteer: SkillGazetteer,
    store: DocumentStore,
    policy: ResumePolicy,
    compute: ComputePool = INLINE,
) -> dict[str, Any]:
    if ref.resume_id is not None:
        record = store.get("resume", ref.resume_id, ref.version)
        if record is None:
            which = f" version {ref.version}" if ref.version else ""
            raise NotFoundError(f"no stored resume {ref.resume_id!r}{which}")
        return record
    assert ref.source is not None
    return await parse_source(
        ref.source, nlp=nlp, gazetteer=gazetteer, policy=policy, compute=compute
    )


async def extract_posting_text(
    text: str, *, nlp: NlpClient, gazetteer: SkillGazetteer
) -> dict[str, Any]:
    (doc,) = await nlp.analyze_many([text[:5_000]])
    return postings.extract(text, gazetteer=gazetteer, entities=doc.entities)


async def resolve_job(
    job: JobSource, *, nlp: NlpClient, gazetteer: SkillGazetteer, store: DocumentStore
) -> tuple[dict[str, Any], str]:
    if job.posting_id is not None:
        stored = store.get("posting", job.posting_id)
        if stored is None:
            raise NotFoundError(f"no stored posting {job.posting_id!r}")
        return stored, str(stored.get("text", ""))
    text = job.text if job.text is not None else postings.html_to_text(job.html or "")
    return await extract_posting_text(text, nlp=nlp, gazetteer=gazetteer), text


async def handle_parse(
    cmd: ParseResume,
    *,
    nlp: NlpClient,
    gazetteer: SkillGazetteer,
    store: DocumentStore,
    policy: ResumePolicy,
    ctx: CommandContext,
    compute: ComputePool = INLINE,
) -> dict[str, Any]:
    record = await parse_source(
        cmd.source, nlp=nlp, gazetteer=gazetteer, policy=policy, compute=compute
    )
    if cmd.resume_id is not None:
        record["resume_id"] = cmd.resume_id
        record["version"] = store.put("resume", cmd.resume_id, record, command_id=ctx.command_id)
    return record


async def handle_evaluate_bullet(
    cmd: EvaluateBullet, *, nlp: NlpClient, gazetteer: SkillGazetteer, policy: ResumePolicy
) -> dict[str, Any]:
    (doc,) = await nlp.analyze_many([cmd.bullet])
    return bullets.evaluate(
        cmd.bullet,
        doc,
        skills=gazetteer.find(cmd.bullet),
        keywords=cmd.keywords,
        role=cmd.role,
        current_role=cmd.current_role,
        policy=policy.bullet,
    )


def _role_alignment(record: dict[str, Any], role: str) -> float:
    words = [w.lower() for w in re.findall(r"[A-Za-z][\w+#]+", role) if len(w) > 2]
    if not words:
        return 0.0
    titles = " ".join(
        [*(j.get("title") or "" for j in record.get("experience", [])), record.get("summary") or ""]
    ).lower()
    return 100.0 * sum(w in titles for w in words) / len(words)


async def handle_evaluate(
    cmd: EvaluateResume,
    *,
    nlp: NlpClient,
    gazetteer: SkillGazetteer,
    embedder: Embedder,
    store: DocumentStore,
    policy: ResumePolicy,
    compute: ComputePool = INLINE,
) -> dict[str, Any]:
    record = await resolve_resume(
        cmd.resume, nlp=nlp, gazetteer=gazetteer, store=store, policy=policy, compute=compute
    )
    job_match = None
    if cmd.job is not None:
        posting, job_text = await resolve_job(cmd.job, nlp=nlp, gazetteer=gazetteer, store=store)
        job_match = await match(
            record, posting, job_text, embedder=embedder, nlp=nlp, policy=policy.match
        )
    items = all_bullets(record)
    docs = await nlp.analyze_many([b for b, _ in items]) if items else []
    scored = [
        bullets.evaluate(
            b,
            doc,
            skills=gazetteer.find(b),
            keywords=[],
            role=None,
            current_role=current,
            policy=policy.bullet,
        )
        for (b, current), doc in zip(items, docs, strict=True)
    ]
    g = policy.gates
    mean = sum(s["score"] for s in scored) / len(scored) if scored else None
    weak = [s for s in scored if s["score"] < g.weak_bullet_score]
    weak_share = len(weak) / len(scored) if scored else None
    ats = evaluation.ats(record)
    doubts = evaluation.uncertain(record)
    findings = evaluation.section_findings(record)
    alignment = job_match["score"] if job_match else None
    if alignment is None and cmd.role:
        alignment = _role_alignment(record, cmd.role)
    gates = {
        "ats_safe": {
            "passed": ats["passed"],
            "threshold": "no layout or parsing problems",
            "problems": ats["problems"],
        },
        "bullet_quality": {
            # no bullet found is a parse we cannot judge, not a resume that failed the gate
            "passed": None
            if mean is None or weak_share is None
            else mean >= g.bullet_min_score and weak_share <= g.max_weak_share,
            "evaluated": mean is not None,
            "threshold": f"mean >= {g.bullet_min_score:g} and weak (< {g.weak_bullet_score:g}) "
            f"<= {g.max_weak_share:.0%}",
            "mean_score": round(mean, 1) if mean is not None else None,
            "weak_share": None if weak_share is None else round(weak_share, 3),
        },
        "role_alignment": {
            "passed": None if alignment is None else alignment >= g.alignment_min_score,
            "threshold": f"match score >= {g.alignment_min_score:g}",
            "score": None if alignment is None else round(alignment, 1),
            "evaluated": alignment is not None,
        },
    }
    total = evaluation.overall(mean, ats, findings, alignment)
    return {
        "score": total["score"],
        "components": total["components"],
        "gates": gates,
        "findings": findings,
        "uncertain": doubts,
        "repeated": evaluation.repeated([b for b, _ in items], g),
        "bullets": [
            {"bullet": s["bullet"], "score": s["score"], "suggestions": s["suggestions"][:3]}
            for s in scored
        ],
        "weak_bullets": [s["bullet"] for s in weak],
        "match": job_match,
        "resume_id": record.get("resume_id"),
        "version": record.get("version"),
    }


async def handle_match(
    cmd: MatchResume,
    *,
    nlp: NlpClient,
    gazetteer: SkillGazetteer,
    embedder: Embedder,
    store: DocumentStore,
    policy: ResumePolicy,
    compute: ComputePool = INLINE,
) -> dict[str, Any]:
    record = await resolve_resume(
        cmd.resume, nlp=nlp, gazetteer=gazetteer, store=store, policy=policy, compute=compute
    )
    posting, job_text = await resolve_job(cmd.job, nlp=nlp, gazetteer=gazetteer, store=store)
    result = await match(record, posting, job_text, embedder=embedder, nlp=nlp, policy=policy.match)
    return {**result, "job_title": posting.get("title"), "resume_id": record.get("resume_id")}


async def handle_extract_posting(
    cmd: ExtractPosting,
    *,
    nlp: NlpClient,
    gazetteer: SkillGazetteer,
    store: DocumentStore,
    ctx: CommandContext,
) -> dict[str, Any]:
    text = cmd.text if cmd.text is not None else postings.html_to_text(cmd.html or "")
    posting = await extract_posting_text(text, nlp=nlp, gazetteer=gazetteer)
    if cmd.posting_id is not None:
        posting["posting_id"] = cmd.posting_id
        posting["version"] = store.put(
            "posting", cmd.posting_id, {**posting, "text": text}, command_id=ctx.command_id
        )
    return posting


async def handle_get_resume(cmd: GetStored, *, store: DocumentStore) -> dict[str, Any]:
    record = store.get("resume", cmd.id, cmd.version)
    if record is None:
        raise NotFoundError(f"no stored resume {cmd.id!r}")
    return record


async def handle_get_posting(cmd: GetStored, *, store: DocumentStore) -> dict[str, Any]:
    record = store.get("posting", cmd.id, cmd.version)
    if record is None:
        raise NotFoundError(f"no stored posting {cmd.id!r}")
    return record


async def handle_ground_bullets(
    cmd: GroundBullets,
    *,
    nlp: NlpClient,
    gazetteer: SkillGazetteer,
    store: DocumentStore,
    policy: ResumePolicy,
    compute: ComputePool = INLINE,
) -> dict[str, Any]:
    record = await resolve_resume(
        cmd.resume, nlp=nlp, gazetteer=gazetteer, store=store, policy=policy, compute=compute
    )
    lines = [c for c in (grounding.clean_line(x) for x in cmd.rewritten) if c]
    docs = await nlp.analyze_many(lines) if lines else []
    terms = {
        line: {h.text for h in gazetteer.find(line)}
        | {str(e.get("text", "")) for e in doc.entities if e.get("label") in grounding.FACT_LABELS}
        for line, doc in zip(lines, docs, strict=True)
    }
    out = grounding.ground(record, cmd.bullets, lines, terms=lambda t: terms.get(t, set()))
    return {**out, "resume_id": record.get("resume_id"), "version": record.get("version")}


COMMANDS = [
    CommandSpec(
        "resume.parse",
        ParseResume,
        handle_parse,
        "A PDF, DOCX or text resume -> contact, sections, skills and ATS layout flags.",
    ),
    CommandSpec(
        "resume.evaluate_bullet",
        EvaluateBullet,
        handle_evaluate_bullet,
        "One bullet -> score 0-100 with weighted named checks, reasons and fixes.",
        read_only=True,
    ),
    CommandSpec(
        "resume.evaluate",
        EvaluateResume,
        handle_evaluate,
        "A whole resume (optionally vs a job) -> score, findings, repetition, gates.",
        read_only=True,
    ),
    CommandSpec(
        "resume.match",
        MatchResume,
        handle_match,
        "Resume vs job description -> explained score, matched/missing skills, keywords.",
        read_only=True,
    ),
    CommandSpec(
        "posting.extract",
        ExtractPosting,
        handle_extract_posting,
        "A job posting (text/HTML) -> title, seniority, salary, skills, years, education...",
    ),
    CommandSpec(
        "resume.bullets.ground",
        GroundBullets,
        handle_ground_bullets,
        "Rewritten bullets vs the source resume -> per bullet the rewrite or the original "
        "(new facts, duplicates, other jobs' bullets refused) and why.",
        read_only=True,
    ),
    CommandSpec(
        "resume.get",
        GetStored,
        handle_get_resume,
        "A stored parsed resume (latest or a version).",
        read_only=True,
    ),
    CommandSpec(
        "posting.get",
        GetStored,
        handle_get_posting,
        "A stored posting extraction (latest or a version).",
        read_only=True,
    ),
]

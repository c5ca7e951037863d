"""Resume vs job: skill overlap (required vs nice-to-have) + semantic similarity, explained."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from agents.resume.ports import Embedder, NlpClient
from agents.resume.resume import skill_names

GENERIC = {
    "requirements",
    "responsibilities",
    "experience",
    "location",
    "salary",
    "team",
    "role",
    "company",
    "years",
    "candidate",
    "work",
    "benefits",
    "job",
    "position",
    "skills",
}
DEFAULT_MATCH_WEIGHTS = {"required_skills": 0.5, "preferred_skills": 0.15, "semantic": 0.35}


@dataclass(frozen=True)
class MatchPolicy:
    weights: dict[str, float]
    semantic_floor: float = 0.15  # cosine mapped to 0
    semantic_ceiling: float = 0.75  # cosine mapped to 1
    max_suggestions: int = 10


def _cos(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return 0.0 if na == 0 or nb == 0 else dot / (na * nb)


def resume_chunks(record: dict[str, Any]) -> list[str]:
    chunks = []
    if record.get("summary"):
        chunks.append(record["summary"])
    for job in record.get("experience", []):
        head = " ".join(filter(None, [job.get("title"), job.get("company")]))
        text = " ".join([head, *job.get("bullets", [])]).strip()
        if text:
            chunks.append(text[:2000])
    for project in record.get("projects", []):
        text = " ".join(
            filter(
                None, [project.get("name"), project.get("description"), *project.get("bullets", [])]
            )
        )
        if text:
            chunks.append(text[:2000])
    skills = ", ".join(record["skills"]["listed"][:60])
    if skills:
        chunks.append("Skills: " + skills)
    return chunks or [record.get("text", "")[:4000] or "empty"]


def job_chunks(posting: dict[str, Any], text: str) -> list[str]:
    chunks = [
        "\n".join(posting.get(k, []))[:2000]
        for k in ("responsibilities", "requirements", "nice_to_have")
        if posting.get(k)
    ]
    return chunks or [text[:4000]]


def present_in(skill: str, names: set[str], text_low: str) -> bool:
    return (
        skill in names or re.search(rf"(?<![\w]){re.escape(skill)}(?![\w+#])", text_low) is not None
    )


async def semantic(
    record: dict[str, Any], posting: dict[str, Any], job_text: str, embedder: Embedder
) -> dict[str, Any]:
    r_chunks = resume_chunks(record)
    j_chunks = job_chunks(posting, job_text)
    whole_r = " ".join(r_chunks)[:6000]
    whole_j = job_text[:6000]
    vectors = await embedder.embed([whole_r, whole_j, *r_chunks, *j_chunks])
    doc_cos = _cos(vectors[0], vectors[1])
    rv = vectors[2 : 2 + len(r_chunks)]
    jv = vectors[2 + len(r_chunks) :]
    coverage = sum(max(_cos(j, r) for r in rv) for j in jv) / len(jv)
    return {
        "model": embedder.model_name,
        "document_cosine": round(doc_cos, 4),
        "requirement_coverage": round(coverage, 4),
        "cosine": round(0.5 * doc_cos + 0.5 * coverage, 4),
    }


async def match(
    record: dict[str, Any],
    posting: dict[str, Any],
    job_text: str,
    *,
    embedder: Embedder,
    nlp: NlpClient,
    policy: MatchPolicy,
) -> dict[str, Any]:
    names = skill_names(record)
    text_low = record.get("text", "").lower()
    required = posting["required_skills"]
    preferred = posting["preferred_skills"]
    matched_req = [s for s in required if present_in(s, names, text_low)]
    matched_pref = [s for s in preferred if present_in(s, names, text_low)]
    missing_req = [s for s in required if s not in matched_req]
    missing_pref = [s for s in preferred if s not in matched_pref]
    sem = await semantic(record, posting, job_text, embedder)
    lo, hi = policy.semantic_floor, policy.semantic_ceiling
    sem_value = max(0.0, min(1.0, (sem["cosine"] - lo) / (hi - lo)))
    parts = {
        "required_skills": (len(matched_req) / len(required)) if required else None,
        "preferred_skills": (len(matched_pref) / len(preferred)) if preferred else None,
        "semantic": sem_value,
    }
    used = {k: v for k, v in parts.items() if v is not None and policy.weights.get(k, 0) > 0}
    total_w = sum(policy.weights[k] for k in used) or 1.0
    components = []
    score = 0.0
    for key, value in parts.items():
        weight = policy.weights.get(key, 0.0)
        if key not in used:
            components.append(
                {
                    "component": key,
                    "weight": weight,
                    "value": None,
                    "contribution": 0.0,
                    "detail": "not applicable (none listed)",
                }
            )
            continue
        assert value is not None
        share = weight / total_w
        contribution = 100 * share * value
        score += contribution
        detail = {
            "required_skills": f"{len(matched_req)}/{len(required)} required skills",
            "preferred_skills": f"{len(matched_pref)}/{len(preferred)} nice-to-have skills",
            "semantic": f"cosine {sem['cosine']:.2f} ({sem['model']}) mapped from "
            f"[{lo:.2f}, {hi:.2f}] to 0..1",
        }[key]
        components.append(
            {
                "component": key,
                "weight": round(share, 4),
                "value": round(value, 4),
                "contribution": round(contribution, 1),
                "detail": detail,
            }
        )
    keywords = await nlp.keywords(job_text[:20_000], 25)
    suggestions = [*missing_req, *missing_pref]
    for kw, count in keywords:
        low = kw.lower()
        if count < 2 or len(low.split()) > 3 or len(low) <= 2 or low in GENERIC:
            continue  # a suggestion is a term the job insists on, not a one-off
        if low not in text_low and low not in suggestions:
            suggestions.append(low)
    score_i = round(score)
    explanation = (
        f"{score_i}/100: "
        + "; ".join(
            f"{c['detail']} -> {c['contribution']:.0f} pts"
            for c in components
            if c["value"] is not None
        )
        + (f". Missing required: {', '.join(missing_req)}." if missing_req else ".")
    )
    return {
        "score": score_i,
        "explanation": explanation,
        "components": components,
        "matched_skills": {"required": matched_req, "preferred": matched_pref},
        "missing_skills": {"required": missing_req, "preferred": missing_pref},
        "keyword_suggestions": suggestions[: policy.max_suggestions],
        "semantic": sem,
    }

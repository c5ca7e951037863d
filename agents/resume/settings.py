"""Resume worker settings (env vars, read once by the composition root)."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import Field, field_validator

from agents.resume.bullets import DEFAULT_WEIGHTS
from agents.resume.matching import DEFAULT_MATCH_WEIGHTS
from enginedge_streams.settings import EnvSettings


def _weights(value: str, known: dict[str, float]) -> dict[str, float]:
    if not value.strip():
        return dict(known)
    try:
        data = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("must be a JSON object of name -> weight")
    unknown = set(data) - set(known)
    if unknown:
        raise ValueError(f"unknown names {sorted(unknown)} (known: {sorted(known)})")
    if any(not isinstance(v, int | float) or v < 0 for v in data.values()):
        raise ValueError("weights must be numbers >= 0")
    merged = {**known, **{k: float(v) for k, v in data.items()}}
    if sum(merged.values()) <= 0:
        raise ValueError("at least one weight must be > 0")
    return merged


class ResumeSettings(EnvSettings):
    resume_bullet_weights: str = Field(
        "",
        description="JSON object overriding bullet check weights (action_verb 15, "
        "quantified_result 15, active_voice 10, tense 10, concise 10, no_filler 10, keywords 10, "
        "outcome 10, technical_specificity 5, front_loaded 5).",
    )
    resume_bullet_min_words: int = Field(8, ge=1, le=100, description="Shortest concise bullet.")
    resume_bullet_max_words: int = Field(30, ge=2, le=200, description="Longest concise bullet.")
    resume_match_weights: str = Field(
        "",
        description="JSON object overriding match weights (required_skills 0.5, "
        "preferred_skills 0.15, semantic 0.35).",
    )
    resume_semantic_floor: float = Field(
        0.15, ge=-1, le=1, description="Embedding cosine that counts as 0 semantic similarity."
    )
    resume_semantic_ceiling: float = Field(
        0.75, ge=-1, le=1, description="Embedding cosine that counts as full semantic similarity."
    )
    resume_gate_bullet_min_score: float = Field(
        60, ge=0, le=100, description="Bullet-quality gate: least mean bullet score."
    )
    resume_gate_weak_bullet_score: float = Field(
        50, ge=0, le=100, description="A bullet below this score counts as weak."
    )
    resume_gate_max_weak_share: float = Field(
        0.3, ge=0, le=1, description="Bullet-quality gate: largest share of weak bullets."
    )
    resume_gate_alignment_min_score: float = Field(
        55, ge=0, le=100, description="Role-alignment gate: least match score against the job."
    )
    resume_tiny_font_pt: float = Field(
        8.0, gt=0, le=30, description="Text smaller than this (pt) counts as a tiny font."
    )
    resume_tiny_font_share: float = Field(
        0.05, ge=0, le=1, description="Share of characters in tiny fonts that flags the resume."
    )
    resume_max_pages: int = Field(10, ge=1, le=100, description="Most pages of a resume parsed.")
    resume_max_versions: int = Field(
        20, ge=1, le=1000, description="Versions kept per stored resume or posting."
    )
    resume_embeddings: Literal["auto", "bus", "local"] = Field(
        "auto",
        description="Semantic similarity: `bus` (data processing worker's embedding.generate), "
        "`local` (the same all-MiniLM-L6-v2 in-process), `auto` (bus when it answers).",
    )
    resume_nlp_timeout_seconds: float = Field(
        30.0, gt=0, le=600, description="Deadline of one call to the spaCy worker (bus)."
    )
    resume_embedding_timeout_seconds: float = Field(
        60.0, gt=0, le=600, description="Deadline of one embedding.generate call (bus)."
    )
    resume_cache_dir: str = Field(
        "var/resume-cache",
        description="Where the tokenised skills gazetteer is cached (empty: no cache).",
    )
    resume_nlp_batch: bool = Field(
        True, description="Send a resume's bullets to the spaCy worker as one command."
    )

    @field_validator("resume_bullet_weights")
    @classmethod
    def _bullet_weights(cls, value: str) -> str:
        _weights(value, DEFAULT_WEIGHTS)
        return value

    @field_validator("resume_match_weights")
    @classmethod
    def _match_weights(cls, value: str) -> str:
        _weights(value, DEFAULT_MATCH_WEIGHTS)
        return value

    def bullet_weights(self) -> dict[str, float]:
        return _weights(self.resume_bullet_weights, DEFAULT_WEIGHTS)

    def match_weights(self) -> dict[str, float]:
        return _weights(self.resume_match_weights, DEFAULT_MATCH_WEIGHTS)

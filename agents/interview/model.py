"""Interview records: questions, templates, sessions and their transcript (stored as JSON)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Phase = Literal["behavioral", "technical", "coding", "system_design"]
PHASES: tuple[Phase, ...] = ("behavioral", "technical", "coding", "system_design")
Difficulty = Literal["easy", "medium", "hard"]
State = Literal["active", "paused", "completed"]
ID_RE = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Question(_Model):
    question_id: str = Field(pattern=ID_RE)
    phase: Phase
    text: str = Field(min_length=5, max_length=2_000)
    difficulty: Difficulty = "medium"
    tags: list[str] = Field(default_factory=list, max_length=20)
    expected_keywords: list[str] = Field(
        default_factory=list,
        max_length=30,
        description="Concepts a good answer covers; `a|b` lists synonyms.",
    )
    follow_ups: list[str] = Field(default_factory=list, max_length=5)
    source: Literal["seed", "added"] = "added"


class PhaseSpec(_Model):
    phase: Phase
    duration_seconds: float = Field(gt=0, le=4 * 3600)
    question_count: int = Field(ge=1, le=20)
    difficulty: Difficulty | None = None
    tags: list[str] = Field(default_factory=list, max_length=20)


class Template(_Model):
    template_id: str = Field(pattern=ID_RE)
    name: str = Field(min_length=1, max_length=200)
    phases: list[PhaseSpec] = Field(min_length=1, max_length=8)
    rubric: dict[Phase, float] = Field(
        default_factory=dict, description="Weight of each phase in the overall score."
    )
    follow_up_min_words: int = Field(25, ge=0, le=1000)
    source: Literal["seed", "added"] = "added"

    @model_validator(mode="after")
    def _rubric(self) -> Template:
        names = [p.phase for p in self.phases]
        if not self.rubric:
            self.rubric = dict.fromkeys(names, 1.0)
        extra = set(self.rubric) - set(names)
        if extra:
            raise ValueError(f"rubric names phases the template lacks: {sorted(extra)}")
        if any(w < 0 for w in self.rubric.values()) or sum(self.rubric.values()) <= 0:
            raise ValueError("rubric weights must be >= 0 with a positive sum")
        return self


class PhasePlan(_Model):
    phase: Phase
    duration_seconds: float
    question_ids: list[str]
    status: Literal["pending", "active", "done", "timed_out", "ended"] = "pending"
    started_at: float | None = None
    deadline: float | None = None
    remaining_seconds: float | None = None  # while paused
    ended_at: float | None = None


class Entry(_Model):
    """One line of the transcript."""

    kind: Literal[
        "question", "follow_up", "answer", "skip", "phase_timeout", "pause", "resume", "end"
    ]
    at: float
    phase: Phase | None = None
    question_id: str | None = None
    text: str = ""
    command_id: str | None = None
    source: Literal["text", "audio"] | None = None
    audio: dict[str, Any] | None = None
    speech: dict[str, Any] | None = None
    follow_up: bool = False


class Candidate(_Model):
    name: str = Field(min_length=1, max_length=200)
    candidate_id: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=320)


class Session(_Model):
    session_id: str
    template_id: str
    template: Template
    candidate: Candidate
    state: State = "active"
    phases: list[PhasePlan]
    phase_index: int = 0
    question_index: int = 0
    follow_up_pending: bool = False
    epoch: int = 0
    created_at: float
    updated_at: float
    completed_at: float | None = None
    end_reason: str | None = None
    paused_at: float | None = None
    transcript: list[Entry] = Field(default_factory=list)
    applied: dict[str, Any] = Field(default_factory=dict)  # command id -> its result
    report: dict[str, Any] | None = None

    def current_plan(self) -> PhasePlan | None:
        return self.phases[self.phase_index] if self.phase_index < len(self.phases) else None

    def current_question_id(self) -> str | None:
        plan = self.current_plan()
        if plan is None or self.question_index >= len(plan.question_ids):
            return None
        return plan.question_ids[self.question_index]

"""Payloads of the interview worker's commands (validated; JSON Schemas in docs/schemas)."""

from __future__ import annotations

import base64
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agents.interview.model import ID_RE, Candidate, Difficulty, Phase, Question, Template
from enginedge_streams.base64_text import Base64Text

MAX_AUDIO_BASE64 = 1_300_000  # ~950 KB decoded: the bus caps a command at 1 MB


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AddQuestion(_Payload):
    """`question.add`: add (or replace) one question in the bank."""

    question: Question


class ListQuestions(_Payload):
    """`question.list`: the bank, filtered by phase, difficulty and tags."""

    phase: Phase | None = None
    difficulty: Difficulty | None = None
    tags: list[str] = Field(default_factory=list, max_length=10)
    limit: int = Field(100, ge=1, le=1000)


class ImportQuestions(_Payload):
    """`question.import`: many questions from JSON (a list, or `{"questions": [...]}` text)."""

    questions: list[dict[str, object]] | None = Field(None, max_length=1000)
    json_text: str | None = Field(None, min_length=2, max_length=900_000)

    @model_validator(mode="after")
    def _one(self) -> ImportQuestions:
        if (self.questions is None) == (self.json_text is None):
            raise ValueError("give exactly one of `questions` or `json_text`")
        return self


class AddTemplate(_Payload):
    """`template.add`: an interview template (phases, durations, counts, rubric)."""

    template: Template


class ListTemplates(_Payload):
    """`template.list`: the seeded and added templates."""


class StartInterview(_Payload):
    """`interview.start`: a new session from a template -> the first question."""

    template_id: str = Field(pattern=ID_RE)
    candidate: Candidate
    session_id: str | None = Field(
        None, pattern=ID_RE, description="Default: derived from the command id."
    )
    seed: int | None = Field(None, description="Question selection seed (default: from the id).")


class Audio(_Payload):
    content_base64: Base64Text = Field(min_length=4, max_length=MAX_AUDIO_BASE64)
    format: Literal["wav", "mp3", "ogg", "webm", "flac", "m4a"] = "wav"

    def content(self) -> bytes:
        return base64.b64decode(self.content_base64)


class Respond(_Payload):
    """`interview.respond`: the answer to the current question (text or audio)."""

    session_id: str = Field(pattern=ID_RE)
    text: str | None = Field(None, min_length=1, max_length=50_000)
    audio: Audio | None = None
    question_id: str | None = Field(
        None, pattern=ID_RE, description="If given, must be the current question."
    )

    @model_validator(mode="after")
    def _one(self) -> Respond:
        if (self.text is None) == (self.audio is None):
            raise ValueError("give exactly one of `text` or `audio`")
        return self


class SessionCommand(_Payload):
    """`interview.pause` / `resume` / `skip` / `end` / `get`: act on a session."""

    session_id: str = Field(pattern=ID_RE)


class PhaseTimeout(_Payload):
    """`interview.phase_timeout` (sent by the worker's own timer): a phase ran out of time."""

    session_id: str = Field(pattern=ID_RE)
    phase_index: int = Field(ge=0, le=100)
    epoch: int = Field(ge=0)


class MakeReport(_Payload):
    """`interview.report`: scores per phase and overall, evidence, and a PDF."""

    session_id: str = Field(pattern=ID_RE)
    evaluator: Literal["auto", "llm", "rules"] | None = None
    pdf: bool = True

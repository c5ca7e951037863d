"""Ports only the interview worker uses (the shared ones are in ``enginedge_streams.ports``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Transcription:
    text: str
    duration_seconds: float
    language: str | None = None
    model: str = ""
    segments: list[dict[str, Any]] = field(default_factory=list)


class Transcriber(Protocol):
    """Speech-to-text for audio answers."""

    name: str

    async def transcribe(self, audio: bytes, *, audio_format: str) -> Transcription: ...


class SpeechAnalyzer(Protocol):
    """The spaCy worker's `nlp.analyze_speech` (fillers, pace, hedges)."""

    async def analyze(self, transcript: str, duration_seconds: float) -> dict[str, Any]: ...


class AnswerGrader(Protocol):
    """An LLM that grades one answer (the assistant worker, over the bus)."""

    async def available(self) -> bool: ...

    async def grade(self, prompt: str) -> str:
        """The model's raw text answer to the grading prompt."""
        ...


class ReportRenderer(Protocol):
    """Renders a report to PDF and stores it; returns the artifact's description."""

    async def render(self, report: dict[str, Any], *, artifact_id: str) -> dict[str, Any]: ...

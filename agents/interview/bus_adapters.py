"""Adapters on other workers, reached through the platform's ``BusCaller`` (never over HTTP).

* ``BusSpeechAnalyzer`` — the spaCy worker's ``nlp.analyze_speech``;
* ``BusAnswerGrader`` — the assistant worker's ``assistant.complete`` (available while the
  assistant worker answers a ping).
"""

from __future__ import annotations

from typing import Any

from enginedge_streams.ports.bus_caller import BusCaller


class BusSpeechAnalyzer:
    def __init__(self, caller: BusCaller, *, timeout: float = 30.0) -> None:
        self.caller = caller
        self.timeout = timeout

    async def analyze(self, transcript: str, duration_seconds: float) -> dict[str, Any]:
        payload = {"transcript": transcript, "duration_seconds": max(0.1, duration_seconds)}
        data: dict[str, Any] = await self.caller.call(
            "spacy", "nlp.analyze_speech", payload, timeout=self.timeout
        )
        return data


class BusAnswerGrader:
    def __init__(
        self,
        caller: BusCaller,
        *,
        model: str = "",
        timeout: float = 90.0,
        max_tokens: int = 300,
    ) -> None:
        self.caller = caller
        self.model = model
        self.timeout = timeout
        self.max_tokens = max_tokens

    async def available(self) -> bool:
        return await self.caller.available("llm")

    async def grade(self, prompt: str) -> str:
        payload: dict[str, Any] = {
            "prompt": prompt,
            "temperature": 0.0,
            "max_tokens": self.max_tokens,
            "system": "You are a strict, fair technical interviewer. Reply with JSON only.",
        }
        if self.model:
            payload["model"] = self.model
        data = await self.caller.call("llm", "assistant.complete", payload, timeout=self.timeout)
        return str(data.get("text", ""))

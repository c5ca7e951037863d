"""Adapters on other workers, reached through the bus (never over HTTP).

* ``BusSpeechAnalyzer`` — the spaCy worker's ``nlp.analyze_speech``;
* ``BusAnswerGrader`` — the assistant worker's ``assistant.complete``;
* ``BusWorkerProbe`` — is a worker type answering (``system.ping``, cached).
"""

from __future__ import annotations

import time
from typing import Any

from enginedge_streams.errors import (
    DeadlineExceededError,
    DependencyUnavailableError,
    PermanentError,
)
from enginedge_streams.records import Status


async def call(
    bus: Any, worker: str, command_type: str, payload: dict[str, Any], timeout: float
) -> Any:
    try:
        result = await bus.call(worker, command_type, payload, timeout=timeout)
    except DeadlineExceededError:
        raise DependencyUnavailableError(
            f"the {worker} worker did not answer {command_type} within {timeout:.0f}s"
        ) from None
    if result.status is Status.COMPLETED:
        return result.result
    err = result.error
    code = err.code if err else "UNKNOWN"
    message = f"{worker} {command_type} failed: {code}: {err.message if err else '?'}"
    if err is not None and (err.retryable or code == "DEADLINE_EXCEEDED"):
        raise DependencyUnavailableError(message, details={"worker": worker, "code": code})
    raise PermanentError(
        message, code="DEPENDENCY_FAILED", details={"worker": worker, "code": code}
    )


class BusWorkerProbe:
    def __init__(self, bus: Any, worker: str, *, timeout: float = 3.0, ttl: float = 30.0) -> None:
        self.bus = bus
        self.worker = worker
        self.timeout = timeout
        self.ttl = ttl
        self._known: tuple[float, bool] | None = None

    async def available(self) -> bool:
        now = time.monotonic()
        if self._known is not None and now - self._known[0] < self.ttl:
            return self._known[1]
        try:
            result = await self.bus.call(self.worker, "system.ping", {}, timeout=self.timeout)
            ok = result.status is Status.COMPLETED
        except Exception:
            ok = False
        self._known = (now, ok)
        return ok


class BusSpeechAnalyzer:
    def __init__(self, bus: Any, *, timeout: float = 30.0) -> None:
        self.bus = bus
        self.timeout = timeout

    async def analyze(self, transcript: str, duration_seconds: float) -> dict[str, Any]:
        payload = {"transcript": transcript, "duration_seconds": max(0.1, duration_seconds)}
        data: dict[str, Any] = await call(
            self.bus, "spacy", "nlp.analyze_speech", payload, self.timeout
        )
        return data


class BusAnswerGrader:
    def __init__(
        self,
        bus: Any,
        probe: BusWorkerProbe,
        *,
        model: str = "",
        timeout: float = 90.0,
        max_tokens: int = 300,
    ) -> None:
        self.bus = bus
        self.probe = probe
        self.model = model
        self.timeout = timeout
        self.max_tokens = max_tokens

    async def available(self) -> bool:
        return await self.probe.available()

    async def grade(self, prompt: str) -> str:
        payload: dict[str, Any] = {
            "prompt": prompt,
            "temperature": 0.0,
            "max_tokens": self.max_tokens,
            "system": "You are a strict, fair technical interviewer. Reply with JSON only.",
        }
        if self.model:
            payload["model"] = self.model
        data = await call(self.bus, "llm", "assistant.complete", payload, self.timeout)
        return str(data.get("text", ""))

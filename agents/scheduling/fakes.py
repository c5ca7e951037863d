"""Deterministic in-memory adapters for the scheduling worker's ports (unit tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tables.kv import InMemoryKeyValueStore

__all__ = [
    "FixedClock",
    "InMemoryKeyValueStore",
    "RecordingPublisher",
    "RecordingSender",
    "SystemClock",
]


class RecordingPublisher:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    async def publish(self, key: str, event: dict[str, Any]) -> None:
        self.events.append((key, event))


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    async def send(self, command_id: str, command_type: str, payload: dict[str, Any]) -> None:
        self.sent.append((command_id, command_type, payload))


class FixedClock:
    def __init__(self, at: datetime | None = None) -> None:
        self.at = at or datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, **kwargs: float) -> None:
        self.at += timedelta(**kwargs)


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

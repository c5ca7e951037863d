"""Deterministic in-memory adapters for the scheduling worker's ports (unit tests)."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any


class InMemoryKeyValueStore:
    """The ``KeyValueStore`` port on a dict with a sorted key index (same as the table's)."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self._keys: list[str] = []

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def put(self, key: str, value: bytes) -> None:
        if key not in self.data:
            bisect.insort(self._keys, key)
        self.data[key] = bytes(value)

    def delete(self, key: str) -> None:
        if self.data.pop(key, None) is not None:
            self._keys.remove(key)

    def keys(self, prefix: str) -> list[str]:
        i = bisect.bisect_left(self._keys, prefix)
        out = []
        while i < len(self._keys) and self._keys[i].startswith(prefix):
            out.append(self._keys[i])
            i += 1
        return out

    def scan(self, prefix: str) -> Iterator[tuple[str, bytes]]:
        for key in self.keys(prefix):
            yield key, self.data[key]


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

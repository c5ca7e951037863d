"""Deterministic in-memory fakes of the orchestrator's ports, for unit tests and demos."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel


class InMemoryBytesStore:
    """RequestStore / InstanceStore on a dict."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.writes = 0

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def put(self, key: str, value: bytes) -> None:
        self.data[key] = bytes(value)
        self.writes += 1

    def delete(self, key: str) -> None:
        self.data.pop(key, None)

    def items(self) -> Iterator[tuple[str, bytes]]:
        yield from list(self.data.items())


class StaticCatalog:
    """A WorkerCatalog from a dict {worker_type: {command_type: payload model}}."""

    def __init__(self, workers: dict[str, dict[str, type[BaseModel]] | None]) -> None:
        self.workers = workers

    def worker_types(self) -> list[str]:
        return sorted(self.workers)

    def commands(self, worker_type: str) -> dict[str, type[BaseModel]] | None:
        return self.workers.get(worker_type)


class ManualClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now

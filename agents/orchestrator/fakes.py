"""Deterministic fakes of the orchestrator's own ports (its stores and clock are the platform's:
``InMemoryKeyValueStore``, ``FixedClock``)."""

from __future__ import annotations

from pydantic import BaseModel


class StaticCatalog:
    """A WorkerCatalog from a dict {worker_type: {command_type: payload model}}."""

    def __init__(self, workers: dict[str, dict[str, type[BaseModel]] | None]) -> None:
        self.workers = workers

    def worker_types(self) -> list[str]:
        return sorted(self.workers)

    def commands(self, worker_type: str) -> dict[str, type[BaseModel]] | None:
        return self.workers.get(worker_type)

"""Publishes a domain event (a JSON object) to a worker's events topic, keyed by ``key``."""

from __future__ import annotations

from typing import Any, Protocol


class EventPublisher(Protocol):
    async def publish(self, key: str, event: dict[str, Any]) -> None: ...

"""Recording fakes of the ``CommandSender`` and ``EventPublisher`` ports."""

from __future__ import annotations

from typing import Any

from enginedge_streams.records import Command


class RecordingCommandSender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Command]] = []

    async def send(self, worker_type: str, command: Command) -> None:
        self.sent.append((worker_type, command))

    @property
    def commands(self) -> list[tuple[str, str, dict[str, Any]]]:
        """``(command_id, command_type, payload)`` of each command sent, in order."""
        return [(c.command_id, c.command_type, c.payload) for _, c in self.sent]


class RecordingEventPublisher:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []

    async def publish(self, key: str, event: dict[str, Any]) -> None:
        self.published.append((key, event))

    @property
    def events(self) -> list[dict[str, Any]]:
        return [event for _, event in self.published]

    def types(self) -> list[str]:
        return [str(e["type"]) for e in self.events]

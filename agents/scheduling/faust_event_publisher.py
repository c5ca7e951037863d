"""The ``EventPublisher`` and ``CommandSender`` ports on Faust topics."""

from __future__ import annotations

from typing import Any

import orjson

from enginedge_streams.codec import encode_command
from enginedge_streams.records import Command


class FaustEventPublisher:
    """Writes domain events (JSON, keyed) to the worker's events topic."""

    def __init__(self, topic: Any) -> None:
        self.topic = topic

    async def publish(self, key: str, event: dict[str, Any]) -> None:
        await self.topic.send(key=key.encode(), value=orjson.dumps(event))


class FaustCommandSender:
    """Sends a command to the worker's own requests topic, keyed by its id."""

    def __init__(self, topic: Any) -> None:
        self.topic = topic

    async def send(self, command_id: str, command_type: str, payload: dict[str, Any]) -> None:
        command = Command(command_id=command_id, command_type=command_type, payload=payload)
        await self.topic.send(key=command_id.encode(), value=encode_command(command))

"""The ``EventPublisher`` and ``CommandSender`` ports on Faust topics, and the system clock."""

from __future__ import annotations

import time
from typing import Any

import orjson

from enginedge_streams.codec import encode_command
from enginedge_streams.records import Command


class FaustEventPublisher:
    """Writes domain events (JSON, keyed by session id) to `worker.interview.events`."""

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


class SystemClock:
    def now(self) -> float:
        return time.time()

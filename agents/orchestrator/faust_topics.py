"""The orchestrator's ports on Faust topics: step commands, events, its own drive topic."""

from __future__ import annotations

from typing import Any

import faust
import orjson

from enginedge_streams.codec import encode_command
from enginedge_streams.faust_app import ensure_topics
from enginedge_streams.records import Command
from enginedge_streams.settings import Settings
from enginedge_streams.topics import WorkerTopics


def events_topic_name(prefix: str) -> str:
    return f"{prefix}orchestrator.events"


class FaustCommandSender:
    """Sends a step command to `worker.<type>.requests`, keyed by its command id.

    The worker's topics are created first if missing (with the configured
    partitions), so the broker never auto-creates them with its own default.
    """

    def __init__(self, app: faust.App, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self._topics: dict[str, Any] = {}

    async def send(self, worker_type: str, command: Command) -> None:
        topic = self._topics.get(worker_type)
        if topic is None:
            t = WorkerTopics(worker_type, self.settings.topic_prefix)
            await ensure_topics(self.settings, [t.requests, t.results, t.dlq], attempts=5)
            topic = self._topics[worker_type] = self.app.topic(
                t.requests, partitions=self.settings.topic_partitions
            )
        await topic.send(key=command.command_id.encode(), value=encode_command(command))


class FaustEventPublisher:
    """Status changes on `<prefix>orchestrator.events`, keyed by request id (JSON)."""

    def __init__(self, topic: Any) -> None:
        self.topic = topic

    async def publish(self, request_id: str, event: dict[str, Any]) -> None:
        await self.topic.send(key=request_id.encode(), value=orjson.dumps(event))


class FaustDriveSender:
    """Internal events (tick, resume, purge) on the drive topic, keyed by request id, so each
    lands in the partition that holds the request's row."""

    def __init__(self, topic: Any) -> None:
        self.topic = topic

    async def send(self, request_id: str, kind: str) -> None:
        await self.topic.send(
            key=request_id.encode(), value=orjson.dumps({"request_id": request_id, "kind": kind})
        )

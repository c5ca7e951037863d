"""The ``CommandSender`` port on Faust topics.

A worker's requests topic is created first if missing (with the configured
partitions), so the broker never auto-creates it with its own default. Topics
the app already declared (a worker's own requests topic) are passed in
``known`` and used as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import faust

from enginedge_streams.codec import encode_command
from enginedge_streams.records import Command
from enginedge_streams.settings import Settings
from enginedge_streams.topics import WorkerTopics


class FaustCommandSender:
    def __init__(
        self, app: faust.App, settings: Settings, *, known: Mapping[str, Any] | None = None
    ) -> None:
        self.app = app
        self.settings = settings
        self._topics: dict[str, Any] = dict(known or {})

    async def send(self, worker_type: str, command: Command) -> None:
        topic = self._topics.get(worker_type)
        if topic is None:
            from enginedge_streams.faust_app import ensure_topics

            t = WorkerTopics(worker_type, self.settings.topic_prefix)
            await ensure_topics(self.settings, [t.requests, t.results, t.dlq], attempts=5)
            topic = self._topics[worker_type] = self.app.topic(
                t.requests, partitions=self.settings.topic_partitions
            )
        await topic.send(key=command.command_id.encode(), value=encode_command(command))

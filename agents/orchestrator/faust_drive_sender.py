"""The orchestrator's ``DriveSender`` port on its own drive topic."""

from __future__ import annotations

from typing import Any

import orjson


class FaustDriveSender:
    """Internal events (tick, resume, purge) on the drive topic, keyed by request id, so each
    lands in the partition that holds the request's row."""

    def __init__(self, topic: Any) -> None:
        self.topic = topic

    async def send(self, request_id: str, kind: str) -> None:
        await self.topic.send(
            key=request_id.encode(), value=orjson.dumps({"request_id": request_id, "kind": kind})
        )

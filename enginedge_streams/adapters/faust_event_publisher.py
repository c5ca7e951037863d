"""The ``EventPublisher`` port on a Faust topic (JSON values, UTF-8 keys)."""

from __future__ import annotations

from typing import Any

import orjson


class FaustEventPublisher:
    """Writes each event as JSON to ``topic`` (a ``faust.Topic``), keyed by ``key``."""

    def __init__(self, topic: Any) -> None:
        self.topic = topic

    async def publish(self, key: str, event: dict[str, Any]) -> None:
        await self.topic.send(key=key.encode(), value=orjson.dumps(event))

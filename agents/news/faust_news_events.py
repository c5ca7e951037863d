"""The ``NewsEvents`` and ``CommandSender`` ports on Faust topics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from agents.news.model import Article
from agents.news.ports import Mention
from enginedge_streams.codec import encode_command
from enginedge_streams.records import Command


class FaustNewsEvents:
    """``article.ingested`` events on worker.news.articles (keyed by article id) and one
    message per mention on worker.news.mentions (keyed by term, timestamped with the
    article's publication time: the trend tables count it in that time's bucket)."""

    def __init__(self, articles_topic: Any, mentions_topic: Any) -> None:
        self.articles_topic = articles_topic
        self.mentions_topic = mentions_topic

    async def article_ingested(self, article: Article) -> None:
        event = {
            "type": "article.ingested",
            "schema_version": 1,
            "article": article.model_dump(mode="json", exclude={"emitted"}),
        }
        await self.articles_topic.send(key=article.article_id.encode(), value=orjson.dumps(event))

    async def mentions(self, mentions: list[Mention]) -> None:
        for m in mentions:
            await self.mentions_topic.send(
                key=m.key.encode(),
                value=orjson.dumps({"k": m.key, "d": m.term, "article_id": m.article_id}),
                timestamp=m.at.timestamp(),
            )


class FaustCommandSender:
    """Sends a command to the worker's own requests topic, keyed by its id."""

    def __init__(self, topic: Any) -> None:
        self.topic = topic

    async def send(self, command_id: str, command_type: str, payload: Mapping[str, Any]) -> None:
        command = Command(command_id=command_id, command_type=command_type, payload=dict(payload))
        await self.topic.send(key=command_id.encode(), value=encode_command(command))

"""The ``NewsEvents`` port on Faust topics.

``article.ingested`` events go through the platform's ``EventPublisher`` (worker.news.articles,
keyed by article id); each mention is one message on worker.news.mentions (keyed by term,
timestamped with the article's publication time: the trend tables count it in that time's
bucket, which a plain event publisher cannot express).
"""

from __future__ import annotations

from typing import Any

import orjson

from agents.news.model import Article
from agents.news.ports import Mention
from enginedge_streams.ports.event_publisher import EventPublisher


class FaustNewsEvents:
    def __init__(self, articles: EventPublisher, mentions_topic: Any) -> None:
        self.articles = articles
        self.mentions_topic = mentions_topic

    async def article_ingested(self, article: Article) -> None:
        event = {
            "type": "article.ingested",
            "schema_version": 1,
            "article": article.model_dump(mode="json", exclude={"emitted"}),
        }
        await self.articles.publish(article.article_id, event)

    async def mentions(self, mentions: list[Mention]) -> None:
        for m in mentions:
            await self.mentions_topic.send(
                key=m.key.encode(),
                value=orjson.dumps({"k": m.key, "d": m.term, "article_id": m.article_id}),
                timestamp=m.at.timestamp(),
            )

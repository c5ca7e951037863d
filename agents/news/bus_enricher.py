"""The ``Enricher`` port over the platform's ``BusCaller``: the spaCy worker's
nlp.analyze, nlp.keywords and nlp.categorize_topic commands."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from agents.news.enrich import category_payload, classify, clean_keywords, entities_from_spans
from agents.news.model import Enrichment
from enginedge_streams.adapters.kafka_bus_caller import DEPENDENCY_FAILED
from enginedge_streams.errors import PermanentError
from enginedge_streams.ports.bus_caller import BusCaller


class BusEnricher:
    """Failures are the platform's bus-call codes (``enginedge_streams.ports.bus_caller``):
    ``DEPENDENCY_UNAVAILABLE`` (no answer in time; retryable), ``DEPENDENCY_FAILED``."""

    def __init__(
        self,
        workers: BusCaller,
        *,
        categories: list[str],
        timeout: float,
        max_chars: int,
        worker: str = "spacy",
        on_call: Callable[[str, bool], None] | None = None,
        classifier: str = "keywords",
    ) -> None:
        self.workers = workers
        self.categories = categories
        self.timeout = timeout
        self.max_chars = max_chars
        self.worker = worker
        self.on_call = on_call  # (api, error) -> None: external-call metrics
        self.classifier = classifier  # "keywords" (local vote) or "spacy" (nlp.categorize_topic)

    async def _call(self, command_type: str, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            result = await self.workers.call(
                self.worker, command_type, payload, timeout=self.timeout
            )
        except Exception:
            self._count(error=True)
            raise
        if not isinstance(result, dict):
            self._count(error=True)
            raise PermanentError(
                f"{self.worker} {command_type} answered {type(result).__name__}, not an object",
                code=DEPENDENCY_FAILED,
                details={"worker_type": self.worker, "command_type": command_type},
            )
        self._count(error=False)
        return result

    def _count(self, *, error: bool) -> None:
        if self.on_call is not None:
            self.on_call(self.worker, error)

    async def enrich(self, title: str, text: str, *, category: str | None) -> Enrichment:
        body = f"{title}\n\n{text}"[: self.max_chars].strip() or title
        calls = [
            self._call("nlp.analyze", {"text": body, "parts": ["entities"]}),
            self._call("nlp.keywords", {"text": body, "top_k": 10}),
        ]
        by_spacy = category is None and len(self.categories) > 1 and self.classifier == "spacy"
        if by_spacy:
            topic = f"{title}. {text[:2000]}"
            calls.append(
                self._call(
                    "nlp.categorize_topic",
                    {"topic": topic, "categories": category_payload(self.categories)},
                )
            )
        results = await asyncio.gather(*calls)
        analysis, keywords = results[0], results[1]
        entities = entities_from_spans(
            (e["text"], e["label"]) for e in analysis.get("entities", [])
        )
        words = clean_keywords(k["keyword"] for k in keywords.get("keywords", []))
        if category is not None:
            return Enrichment(
                entities=entities, keywords=words, category=category, category_source="feed"
            )
        if by_spacy:
            best = results[2].get("best")
        elif len(self.categories) == 1:
            best = self.categories[0]
        else:
            best = classify(f"{title}\n{text}", words, self.categories)
        return Enrichment(
            entities=entities,
            keywords=words,
            category=best,
            category_source="classifier" if best else "none",
        )

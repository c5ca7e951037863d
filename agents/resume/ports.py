"""Ports of the resume worker: NLP over the bus, embeddings, the skills gazetteer, storage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Tok:
    """One token as the spaCy worker's `nlp.analyze` returns it."""

    text: str
    lemma: str
    pos: str
    tag: str
    dep: str
    start: int
    end: int


@dataclass(frozen=True)
class Analysis:
    """A text annotated by the spaCy worker (tokens and entities)."""

    text: str
    tokens: list[Tok]
    entities: list[dict[str, Any]] = field(default_factory=list)


class NlpClient(Protocol):
    """The spaCy worker, reached through the bus."""

    async def analyze_many(self, texts: list[str]) -> list[Analysis]:
        """Annotate texts (order preserved); implementations may batch them in one call."""
        ...

    async def keywords(self, text: str, top_k: int) -> list[tuple[str, int]]:
        """The text's salient keywords with how often each occurs."""
        ...


class Embedder(Protocol):
    """Sentence embeddings (all-MiniLM-L6-v2, 384 dims, L2-normalised)."""

    model_name: str

    async def embed(self, texts: list[str]) -> list[list[float]]: ...


@dataclass(frozen=True)
class SkillHit:
    skill: str  # canonical (gazetteer) form, lower case
    text: str  # as written
    start: int
    end: int


class SkillGazetteer(Protocol):
    """Finds known skills in text (a phrase matcher over a skills list)."""

    size: int

    def find(self, text: str, *, lenient: bool = False) -> list[SkillHit]:
        """Skills in ``text``; ``lenient`` for a skills list (keeps lower-case single words)."""
        ...


class DocumentStore(Protocol):
    """Versioned JSON documents (parsed resumes, postings) keyed by kind and id."""

    def get(self, kind: str, doc_id: str, version: int | None = None) -> dict[str, Any] | None: ...

    def put(self, kind: str, doc_id: str, data: dict[str, Any], *, command_id: str) -> int:
        """Store a new version (the same command id again returns its version); returns it."""
        ...

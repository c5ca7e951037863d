"""The spaCy worker's port: an NLP engine returning plain annotated documents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Token:
    text: str
    lemma: str
    pos: str
    tag: str
    dep: str
    start: int
    end: int
    is_stop: bool
    is_punct: bool
    is_alpha: bool
    sent: int


@dataclass(frozen=True)
class Span:
    text: str
    start: int
    end: int
    label: str = ""
    root_lemma: str = ""


@dataclass(frozen=True)
class AnnotatedDoc:
    text: str
    tokens: list[Token]
    entities: list[Span]
    noun_chunks: list[Span]
    sentences: list[Span]
    vector: list[float] = field(default_factory=list)  # context vector (mean of tok2vec)


class NlpEngine(Protocol):
    model_name: str

    async def annotate(self, texts: list[str]) -> list[AnnotatedDoc]:
        """Annotate texts in one batch (``nlp.pipe``); order is preserved."""
        ...

    def loaded(self) -> bool: ...

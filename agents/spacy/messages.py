"""Payloads of the spaCy worker's commands (validated; JSON Schemas in docs/schemas)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_TEXT = 100_000
Part = Literal["entities", "tokens", "noun_chunks", "sentences"]
ALL_PARTS: tuple[Part, ...] = ("entities", "tokens", "noun_chunks", "sentences")


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class AnalyzeText(_Payload):
    """`nlp.analyze`: entities, tokens (POS, lemma), noun chunks, sentences."""

    text: str = Field(min_length=1, max_length=MAX_TEXT)
    parts: list[Part] = Field(default_factory=lambda: list(ALL_PARTS), min_length=1)


class ExtractKeywords(_Payload):
    """`nlp.keywords`: the most salient keywords and key phrases."""

    text: str = Field(min_length=1, max_length=MAX_TEXT)
    top_k: int = Field(10, ge=1, le=100)


class CompareTexts(_Payload):
    """`nlp.similarity`: how close two texts are (0..1)."""

    text_a: str = Field(min_length=1, max_length=MAX_TEXT)
    text_b: str = Field(min_length=1, max_length=MAX_TEXT)


class Category(_Payload):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2_000)
    keywords: list[str] = Field(default_factory=list, max_length=200)


class CategorizeTopic(_Payload):
    """`nlp.categorize_topic`: rank candidate categories for a topic."""

    topic: str = Field(min_length=1, max_length=MAX_TEXT)
    categories: list[Category | str] = Field(min_length=1, max_length=100)

    @field_validator("categories")
    @classmethod
    def _normalise(cls, value: list[Category | str]) -> list[Category | str]:
        names = [c if isinstance(c, str) else c.name for c in value]
        if any(not n.strip() for n in names):
            raise ValueError("category names must not be blank")
        if len({n.strip().lower() for n in names}) != len(names):
            raise ValueError("category names must be unique")
        return value


class AnalyzeSpeech(_Payload):
    """`nlp.analyze_speech`: fillers, pace and hedging in a spoken answer."""

    transcript: str = Field(min_length=1, max_length=MAX_TEXT)
    duration_seconds: float = Field(gt=0, le=24 * 3600)

"""``nlp_analyze``: entities, noun chunks and sentences from the spaCy worker over the bus."""

from __future__ import annotations

from typing import Any, ClassVar

from agents.agent_tool.ports import Tool, ToolDeps
from agents.agent_tool.tools.bus_tool import BusTool


class NlpAnalyzeTool(BusTool):
    worker = "spacy"
    command = "nlp.analyze"
    defaults: ClassVar[dict[str, Any]] = {"parts": ["entities", "noun_chunks", "sentences"]}
    name = "nlp_analyze"
    description = (
        "Analyse English text with spaCy: named entities, noun chunks, sentences "
        "(and tokens with POS/lemma on request)."
    )
    args_schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "text": {"type": "string", "minLength": 1, "maxLength": 100_000},
            "parts": {
                "type": "array",
                "items": {"enum": ["entities", "tokens", "noun_chunks", "sentences"]},
                "minItems": 1,
                "uniqueItems": True,
                "default": ["entities", "noun_chunks", "sentences"],
            },
        },
        "required": ["text"],
        "additionalProperties": False,
    }


def create(deps: ToolDeps) -> Tool:
    return NlpAnalyzeTool(deps.workers, deps.bus_timeout_s)

"""``nlp_analyze``: entities, noun chunks and sentences from the spaCy worker over the bus."""

from __future__ import annotations

from typing import Any

from agents.agent_tool.ports import Tool, ToolContext, ToolDeps
from enginedge_streams.ports.bus_caller import BusCaller


class NlpAnalyzeTool:
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
    read_only = True
    cacheable = True

    def __init__(self, workers: BusCaller, timeout_s: float) -> None:
        self.workers = workers
        self.timeout_s = timeout_s

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> Any:
        payload = {"parts": ["entities", "noun_chunks", "sentences"], **args}
        timeout = max(1.0, min(self.timeout_s, ctx.remaining_seconds))
        return await self.workers.call("spacy", "nlp.analyze", payload, timeout=timeout)


def create(deps: ToolDeps) -> Tool:
    return NlpAnalyzeTool(deps.workers, deps.bus_timeout_s)

"""``document_search``: search the data processing worker's documents over the bus."""

from __future__ import annotations

from typing import Any

from agents.agent_tool.ports import Tool, ToolContext, ToolDeps
from enginedge_streams.ports.bus_caller import BusCaller


class DocumentSearchTool:
    name = "document_search"
    description = (
        "Search ingested documents (vector, keyword or hybrid) and return the best matching "
        "chunks with their document ids and scores."
    )
    args_schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "query": {"type": "string", "minLength": 1, "maxLength": 2_000},
            "top_k": {"type": "integer", "minimum": 1, "maximum": 50, "default": 5},
            "collection": {"type": "string", "maxLength": 200},
            "mode": {"enum": ["vector", "keyword", "hybrid"]},
            "filter": {"type": "object", "maxProperties": 20},
        },
        "required": ["query"],
        "additionalProperties": False,
    }
    read_only = True
    cacheable = True

    def __init__(self, workers: BusCaller, timeout_s: float) -> None:
        self.workers = workers
        self.timeout_s = timeout_s

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> Any:
        payload = {"top_k": 5, **args}
        timeout = max(1.0, min(self.timeout_s, ctx.remaining_seconds))
        return await self.workers.call(
            "data_processing", "document.search", payload, timeout=timeout
        )


def create(deps: ToolDeps) -> Tool:
    return DocumentSearchTool(deps.workers, deps.bus_timeout_s)

"""``document_search``: search the data processing worker's documents over the bus."""

from __future__ import annotations

from typing import Any, ClassVar

from agents.agent_tool.ports import Tool, ToolDeps
from agents.agent_tool.tools.bus_tool import BusTool


class DocumentSearchTool(BusTool):
    worker = "data_processing"
    command = "document.search"
    defaults: ClassVar[dict[str, Any]] = {"top_k": 5}
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


def create(deps: ToolDeps) -> Tool:
    return DocumentSearchTool(deps.workers, deps.bus_timeout_s)

"""Payloads of the tool worker's commands (validated; JSON Schemas in docs/schemas)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

TOOL_NAME = r"^[a-z][a-z0-9_]{0,63}$"


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ListTools(_Payload):
    """`tool.list`: every registered tool with its description and JSON Schema of args."""

    names: list[str] | None = Field(None, max_length=100, description="Only these tools.")


class ToolCall(_Payload):
    tool: str = Field(pattern=TOOL_NAME, description="Registered tool name.")
    args: dict[str, Any] = Field(default_factory=dict, description="Arguments (tool's schema).")


class ExecuteTool(ToolCall):
    """`tool.execute`: run one tool.

    The execution counts against the budget of the command's ``correlation_id``
    (e.g. the agent run that asked for it), or of its own id when it has none.
    """

    use_cache: bool = Field(True, description="Serve a cached result of a read-only tool.")


class ExecuteBatch(_Payload):
    """`tool.execute_batch`: several tools, sequentially or in parallel (bounded)."""

    calls: list[ToolCall] = Field(min_length=1, max_length=100)
    mode: Literal["sequential", "parallel"] = "sequential"
    stop_on_error: bool = Field(
        False, description="Sequential mode: skip the remaining calls after a failure."
    )
    use_cache: bool = True

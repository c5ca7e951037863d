"""The ``ToolRunner`` port over the bus: ``tool.list``/``tool.execute`` on the tool worker.

Each execution is a command whose id is the agent's deterministic call id and
whose ``correlation_id`` is the agent run's command id, so the tool worker
counts every call of one run against ``MAX_TOOL_EXECUTIONS_PER_COMMAND`` and
never executes the same call twice.
"""

from __future__ import annotations

import time
from typing import Any

from agents.llm.ports import ToolResult, ToolSpec
from enginedge_streams.errors import DeadlineExceededError, DependencyUnavailableError
from enginedge_streams.records import Status

TOOL_WORKER = "agent_tool"


class BusToolRunner:
    def __init__(self, bus: Any, *, list_timeout_s: float = 20.0, cache_s: float = 60.0) -> None:
        self.bus = bus  # enginedge_streams.client.BusClient, started by the container
        self.list_timeout_s = list_timeout_s
        self.cache_s = cache_s
        self._tools: list[ToolSpec] | None = None
        self._listed_at = 0.0

    async def list_tools(self) -> list[ToolSpec]:
        if self._tools is not None and time.monotonic() - self._listed_at < self.cache_s:
            return self._tools
        try:
            result = await self.bus.call(TOOL_WORKER, "tool.list", {}, timeout=self.list_timeout_s)
        except DeadlineExceededError:
            raise DependencyUnavailableError(
                f"the tool worker did not answer tool.list within {self.list_timeout_s:g}s"
            ) from None
        if result.status is not Status.COMPLETED:
            raise DependencyUnavailableError(
                f"tool.list failed: {result.error.message if result.error else '?'}"
            )
        self._tools = [
            ToolSpec(t["name"], t["description"], t["args_schema"]) for t in result.result["tools"]
        ]
        self._listed_at = time.monotonic()
        return self._tools

    async def execute(
        self, tool: str, args: dict[str, Any], *, call_id: str, budget_key: str, timeout: float
    ) -> ToolResult:
        try:
            result = await self.bus.call(
                TOOL_WORKER,
                "tool.execute",
                {"tool": tool, "args": args},
                timeout=timeout,
                command_id=call_id,
                correlation_id=budget_key,
            )
        except DeadlineExceededError:
            return ToolResult(
                False, None, "DEADLINE_EXCEEDED", f"no result from the tool worker in {timeout:g}s"
            )
        if result.status is Status.COMPLETED:
            return ToolResult(True, result.result.get("result"))
        error = result.error
        return ToolResult(
            False,
            None,
            error.code if error else "FAILED",
            error.message if error else "tool failed",
        )

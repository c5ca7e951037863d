"""The ``ToolRunner`` port over the platform's ``BusCaller``: the tool worker's
``tool.list`` and ``tool.execute``.

Each execution is a command whose id is the agent's deterministic call id and
whose ``correlation_id`` is the agent run's command id, so the tool worker
counts every call of one run against ``MAX_TOOL_EXECUTIONS_PER_COMMAND`` and
never executes the same call twice. A failed execution (the tool's error, or no
answer in time) is an observation for the model, not an exception: it comes
back as ``CallOutcome`` and becomes a failed ``ToolResult``.
"""

from __future__ import annotations

import time
from typing import Any

from agents.llm.ports import ToolResult, ToolSpec
from enginedge_streams.ports.bus_caller import BusCaller
from enginedge_streams.records import Command

TOOL_WORKER = "agent_tool"


class BusToolRunner:
    def __init__(
        self, caller: BusCaller, *, list_timeout_s: float = 20.0, cache_s: float = 60.0
    ) -> None:
        self.caller = caller
        self.list_timeout_s = list_timeout_s
        self.cache_s = cache_s
        self._tools: list[ToolSpec] | None = None
        self._listed_at = 0.0

    async def list_tools(self) -> list[ToolSpec]:
        if self._tools is not None and time.monotonic() - self._listed_at < self.cache_s:
            return self._tools
        listing = await self.caller.call(TOOL_WORKER, "tool.list", {}, timeout=self.list_timeout_s)
        self._tools = [
            ToolSpec(t["name"], t["description"], t["args_schema"]) for t in listing["tools"]
        ]
        self._listed_at = time.monotonic()
        return self._tools

    async def execute(
        self, tool: str, args: dict[str, Any], *, call_id: str, budget_key: str, timeout: float
    ) -> ToolResult:
        command = Command(
            command_id=call_id,
            command_type="tool.execute",
            payload={"tool": tool, "args": args},
            correlation_id=budget_key,
            timeout_ms=int(timeout * 1000),
        )
        outcome = await self.caller.call_outcome(TOOL_WORKER, command, timeout=timeout)
        if outcome.ok:
            return ToolResult(True, outcome.result.get("result"))
        return ToolResult(
            False,
            None,
            outcome.code or "FAILED",
            outcome.message or "tool failed",
            retryable=outcome.retryable,  # the bus caller marks a missed deadline retryable
        )

"""Deterministic in-memory adapters for the tool worker's unit tests."""

from __future__ import annotations

import asyncio
from typing import Any

from agents.agent_tool.ports import ToolContext
from enginedge_streams.errors import RetryableError


class InMemoryExecutionBudget:
    def __init__(self) -> None:
        self.positions: dict[str, dict[str, int]] = {}

    async def take(self, budget_key: str, execution_id: str, *, limit: int) -> tuple[bool, int]:
        ids = self.positions.setdefault(budget_key, {})
        position = ids.setdefault(execution_id, len(ids) + 1)
        return position <= limit, position


class FlakyTool:
    """A tool that fails transiently ``failures`` times, or sleeps, then answers."""

    name = "flaky"
    description = "test tool"
    args_schema: dict[str, Any] = {
        "type": "object",
        "properties": {"x": {"type": "integer"}},
        "required": ["x"],
        "additionalProperties": False,
    }
    read_only = True
    cacheable = True

    def __init__(self, failures: int = 0, sleep_s: float = 0.0) -> None:
        self.failures = failures
        self.sleep_s = sleep_s
        self.runs = 0

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> Any:
        self.runs += 1
        if self.sleep_s:
            await asyncio.sleep(self.sleep_s)
        if self.runs <= self.failures:
            raise RetryableError("temporarily unavailable")
        return {"x2": args["x"] * 2, "run": self.runs}

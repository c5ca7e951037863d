"""What the tools answered by another worker share: one bus call with the tool's defaults."""

from __future__ import annotations

from typing import Any, ClassVar

from agents.agent_tool.ports import ToolContext
from enginedge_streams.ports.bus_caller import BusCaller


class BusTool:
    """A read-only tool whose answer is ``worker``'s ``command`` over the bus (the caller's
    remaining time bounds the call; at least one second)."""

    name: str
    description: str
    args_schema: dict[str, Any]
    worker: ClassVar[str]
    command: ClassVar[str]
    defaults: ClassVar[dict[str, Any]] = {}  # payload values the arguments may override
    read_only = True
    cacheable = True

    def __init__(self, workers: BusCaller, timeout_s: float) -> None:
        self.workers = workers
        self.timeout_s = timeout_s

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> Any:
        timeout = max(1.0, min(self.timeout_s, ctx.remaining_seconds))
        payload = {**self.defaults, **args}
        return await self.workers.call(self.worker, self.command, payload, timeout=timeout)

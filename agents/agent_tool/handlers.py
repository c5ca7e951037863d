"""Tool worker handlers: plain async functions over the ``ToolExecutor``."""

from __future__ import annotations

import asyncio
from typing import Any

from agents.agent_tool.executor import ToolExecutor
from agents.agent_tool.messages import ExecuteBatch, ExecuteTool, ListTools
from enginedge_streams.errors import EnginEdgeError, LimitExceededError, NotFoundError
from enginedge_streams.handlers import CommandContext, CommandSpec
from enginedge_streams.policy import classify


def _budget_key(ctx: CommandContext) -> str:
    return ctx.command.correlation_id or ctx.command_id


async def handle_list(cmd: ListTools, *, executor: ToolExecutor) -> dict[str, Any]:
    tools = executor.describe()
    if cmd.names is not None:
        unknown = sorted(set(cmd.names) - {t["name"] for t in tools})
        if unknown:
            raise NotFoundError(f"unknown tools: {', '.join(unknown)}", code="UNKNOWN_TOOL")
        tools = [t for t in tools if t["name"] in cmd.names]
    return {"tools": tools}


async def handle_execute(
    cmd: ExecuteTool, *, executor: ToolExecutor, ctx: CommandContext
) -> dict[str, Any]:
    return await executor.execute(
        cmd.tool,
        cmd.args,
        budget_key=_budget_key(ctx),
        execution_id=ctx.command_id,
        deadline_s=ctx.remaining_seconds(),
        use_cache=cmd.use_cache,
    )


async def handle_execute_batch(
    cmd: ExecuteBatch, *, executor: ToolExecutor, concurrency: int, ctx: CommandContext
) -> dict[str, Any]:
    limit = executor.limits.max_per_command
    if len(cmd.calls) > limit:
        raise LimitExceededError(
            f"batch of {len(cmd.calls)} calls is over MAX_TOOL_EXECUTIONS_PER_COMMAND={limit}; "
            "nothing was executed",
            details={"limit": limit, "calls": len(cmd.calls)},
        )
    for call in cmd.calls:  # refuse a batch with a bad call before running any
        executor.validate(call.tool, call.args)

    async def one(i: int) -> dict[str, Any]:
        call = cmd.calls[i]
        try:
            out = await executor.execute(
                call.tool,
                call.args,
                budget_key=_budget_key(ctx),
                execution_id=f"{ctx.command_id}#{i}",
                deadline_s=ctx.remaining_seconds(),
                use_cache=cmd.use_cache,
            )
            return {"index": i, "ok": True, **out}
        except EnginEdgeError as exc:
            info = classify(exc)
            return {"index": i, "ok": False, "tool": call.tool, "error": info.model_dump()}

    results: list[dict[str, Any]] = []
    if cmd.mode == "parallel":
        gate = asyncio.Semaphore(concurrency)

        async def gated(i: int) -> dict[str, Any]:
            async with gate:
                return await one(i)

        results = list(await asyncio.gather(*(gated(i) for i in range(len(cmd.calls)))))
    else:
        for i in range(len(cmd.calls)):
            results.append(await one(i))
            if cmd.stop_on_error and not results[-1]["ok"]:
                results.extend(
                    {"index": j, "ok": False, "tool": cmd.calls[j].tool, "skipped": True}
                    for j in range(i + 1, len(cmd.calls))
                )
                break
    return {
        "results": results,
        "succeeded": sum(1 for r in results if r["ok"]),
        "failed": sum(1 for r in results if not r["ok"]),
    }


COMMANDS = [
    CommandSpec(
        "tool.list",
        ListTools,
        handle_list,
        "Registered tools with descriptions and the JSON Schema of their arguments.",
        read_only=True,
    ),
    CommandSpec(
        "tool.execute",
        ExecuteTool,
        handle_execute,
        "Run one tool (schema-checked, rate-limited, timed out, cached when read-only).",
    ),
    CommandSpec(
        "tool.execute_batch",
        ExecuteBatch,
        handle_execute_batch,
        "Run several tools sequentially or in parallel (bounded), each result or error.",
    ),
]

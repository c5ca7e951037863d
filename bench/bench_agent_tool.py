"""Tool worker: calculator throughput through the worker vs a direct function call.

* ``tool.execute`` commands, 32 in flight, distinct expressions (no cache hits):
  executions/s including Kafka, schema validation, the Redis budget, rate
  limiter and cache lookups;
* ``tool.execute_batch`` of 100 calls per command (parallel mode);
* reference: ``evaluate(expression)`` called in a loop in this process.
"""

from __future__ import annotations

import asyncio
import time

from agents.agent_tool.tools.calculator import evaluate
from bench.common import BenchContext, Row


async def run(ctx: BenchContext) -> list[Row]:
    n = 200 if ctx.quick else 2000
    ctx.worker(
        "agent_tool",
        {
            "TOOL_RATE_LIMITS": "calculator=10000000",
            "MAX_TOOL_EXECUTIONS_PER_COMMAND": "100",
            "MAX_CONCURRENCY": "32",
        },
    )
    bus = await ctx.bus()
    for i in range(5):
        await bus.call(
            "agent_tool",
            "tool.execute",
            {"tool": "calculator", "args": {"expression": f"{i}+0"}},
            timeout=60,
        )
    gate = asyncio.Semaphore(32)

    async def one(i: int) -> None:
        async with gate:
            r = await bus.call(
                "agent_tool",
                "tool.execute",
                {"tool": "calculator", "args": {"expression": f"({i} * 7 + 3) ** 2"}},
                timeout=120,
            )
            assert r.status.value == "COMPLETED", r.error

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    ours = n / (time.perf_counter() - t0)

    batches = max(2, n // 100)
    t0 = time.perf_counter()
    for b in range(batches):
        calls = [
            {"tool": "calculator", "args": {"expression": f"({b} * 1000 + {i}) / 7"}}
            for i in range(100)
        ]
        r = await bus.call(
            "agent_tool", "tool.execute_batch", {"calls": calls, "mode": "parallel"}, timeout=120
        )
        assert r.status.value == "COMPLETED", r.error
        assert r.result["succeeded"] == 100
    batch_rate = batches * 100 / (time.perf_counter() - t0)

    t0 = time.perf_counter()
    for i in range(n * 10):
        evaluate(f"({i} * 7 + 3) ** 2")
    direct = n * 10 / (time.perf_counter() - t0)
    return [
        Row(
            "calculator via tool.execute (32 in flight)",
            ours,
            direct,
            "calls/s",
            "higher",
            "ref: evaluate() in-process; ours adds Kafka + Redis budget/rate/cache per call",
        ),
        Row(
            "calculator via tool.execute_batch (100/command)",
            batch_rate,
            direct,
            "calls/s",
            "higher",
            "one command per 100 calls",
        ),
    ]

"""Assistant worker: overhead over a direct SDK call, and agent step latency.

Both sides talk to the same local OpenAI-protocol server (``FakeLlmServer``,
answers in well under a millisecond), so the numbers are the worker's own
cost: Kafka round trip, status table, limits in Redis, token counting.

* completion latency: p50 of ``assistant.complete`` over the bus (closed loop,
  one in flight) vs p50 of ``AsyncOpenAI().chat.completions.create`` direct;
* completion throughput: 8 in flight, completions/s, same comparison;
* agent step: ``assistant.run_agent`` (3 model calls, 2 tools on the tool
  worker) per step vs the same calls made in-process (SDK + the tool functions).
"""

from __future__ import annotations

import asyncio
import json
import time

from agents.agent_tool.tools.calculator import evaluate
from bench.common import BenchContext, Row, percentile
from enginedge_streams.safe_http import SafeHttpClient, SafeHttpPolicy
from tests.support.fake_llm_server import FakeLlmServer

REGISTRY = {
    "echo": {"provider": "openai", "context_window": 8192, "max_output_tokens": 256},
    "agent-script": {"provider": "openai", "supports_tools": True, "context_window": 8192},
}


async def _latencies(call, n: int) -> list[float]:
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        await call(i)
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def _throughput(call, n: int, inflight: int) -> float:
    gate = asyncio.Semaphore(inflight)

    async def one(i: int) -> None:
        async with gate:
            await call(i)

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return n / (time.perf_counter() - t0)


async def run(ctx: BenchContext) -> list[Row]:
    from openai import AsyncOpenAI

    n = 30 if ctx.quick else 200
    server = FakeLlmServer().start()
    try:
        ctx.worker(
            "agent_tool",
            {
                "HTTP_ALLOW_LOOPBACK": "true",
                "TOOL_RATE_LIMITS": "calculator=100000,http_request=100000",
            },
        )
        ctx.worker(
            "llm",
            {
                "OPENAI_API_KEY": "sk-bench",
                "OPENAI_BASE_URL": f"{server.url}/v1",
                "LLM_MODEL_REGISTRY": json.dumps(REGISTRY),
                "DEFAULT_MODEL": "echo",
                "RATE_LIMIT_REQUESTS_PER_MINUTE": "1000000",
                "RATE_LIMIT_TOKENS_PER_MINUTE": "100000000",
                "MAX_CONCURRENCY": "8",
            },
        )
        bus = await ctx.bus()
        client = AsyncOpenAI(api_key="sk-bench", base_url=f"{server.url}/v1", max_retries=0)

        async def direct(i: int) -> None:
            await client.chat.completions.create(
                model="echo", messages=[{"role": "user", "content": f"hello {i}"}], max_tokens=64
            )

        async def ours(i: int) -> None:
            r = await bus.call(
                "llm", "assistant.complete", {"prompt": f"hello {i}", "max_tokens": 64}, timeout=60
            )
            assert r.status.value == "COMPLETED", r.error

        for warm in range(5):
            await direct(warm)
            await ours(warm)
        ref_lat = await _latencies(direct, n)
        our_lat = await _latencies(ours, n)
        ref_tp = await _throughput(direct, n, 8)
        our_tp = await _throughput(ours, n, 8)

        # agent: 3 model calls + 2 tool calls per run
        runs = 5 if ctx.quick else 20
        steps, agent_ms = 0, []
        for i in range(runs):
            t0 = time.perf_counter()
            r = await bus.call(
                "llm",
                "assistant.run_agent",
                {
                    "task": f"compute and read #{i}",
                    "model": "agent-script",
                    "tools": ["calculator", "http_request"],
                },
                timeout=120,
            )
            agent_ms.append((time.perf_counter() - t0) * 1000)
            assert r.status.value == "COMPLETED", r.error
            steps += len(r.result["steps"])
        http = SafeHttpClient(SafeHttpPolicy(allow_loopback=True))

        async def direct_agent(i: int) -> None:
            messages = [{"role": "user", "content": f"compute and read #{i}"}]
            tools = [
                {"type": "function", "function": {"name": n, "parameters": {"type": "object"}}}
                for n in ("calculator", "http_request")
            ]
            for _ in range(3):
                c = await client.chat.completions.create(
                    model="agent-script", messages=messages, tools=tools, max_tokens=256
                )
                msg = c.choices[0].message
                if not msg.tool_calls:
                    return
                call = msg.tool_calls[0]
                args = json.loads(call.function.arguments)
                if call.function.name == "calculator":
                    obs = {"result": evaluate(args["expression"])}
                else:
                    obs = {"body": (await http.fetch(args["url"])).text()}
                messages.append(msg.model_dump(exclude_none=True))
                messages.append(
                    {"role": "tool", "tool_call_id": call.id, "content": json.dumps(obs)}
                )

        ref_agent = await _latencies(direct_agent, runs)
        await http.stop()
        await client.close()
        per_step_ours = sum(agent_ms) / steps
        per_step_ref = sum(ref_agent) / (2 * runs)
        return [
            Row(
                "assistant.complete p50 latency (1 in flight)",
                percentile(our_lat, 50),
                percentile(ref_lat, 50),
                "ms",
                "overhead, lower is better",
                "ref: direct openai SDK call to the same local server",
            ),
            Row(
                "assistant.complete p99 latency",
                percentile(our_lat, 99),
                percentile(ref_lat, 99),
                "ms",
                "lower",
            ),
            Row(
                "assistant.complete throughput (8 in flight)",
                our_tp,
                ref_tp,
                "completions/s",
                "higher",
                "ref: direct SDK calls, 8 concurrent",
            ),
            Row(
                "agent step latency (model call + tool over the bus)",
                per_step_ours,
                per_step_ref,
                "ms/step",
                "lower",
                "run_agent: 3 model calls + calculator + http_request; ref: same calls in-process",
            ),
        ]
    finally:
        server.stop()

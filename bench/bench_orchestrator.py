"""Orchestrator: what running commands as a workflow costs over sending them directly.

* overhead, sequential: a workflow of N no-op steps in a chain (each `system.ping`
  needs the previous one) vs the same N commands sent directly one after the
  other by a bus client (each waits for the previous result);
* overhead, parallel: N independent no-op steps in one workflow vs the same N
  commands sent at once and awaited together;
* throughput: 100 concurrent 3-step workflows (started at once, finished when
  their `request.completed` event arrives) vs 100 concurrent chains of 3 direct
  calls; requests per second.

Workers: one orchestrator and one real worker process (the test plugin worker,
which answers `system.ping` like every worker), MAX_CONCURRENCY 16.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.common import BenchContext, Row, median
from tests.support.stack import KAFKA

PLUGIN = "flaky=tests.support.orchestrator_flaky_worker"
ENV = {"WORKER_PLUGINS": PLUGIN, "MAX_CONCURRENCY": "16"}


def chain(n: int) -> dict[str, Any]:
    steps = [{"id": "s0", "worker": "flaky", "command": "system.ping"}]
    for i in range(1, n):
        steps.append(
            {"id": f"s{i}", "worker": "flaky", "command": "system.ping", "needs": [f"s{i - 1}"]}
        )
    return {"name": f"chain-{n}", "steps": steps}


def fan(n: int) -> dict[str, Any]:
    return {
        "name": f"fan-{n}",
        "steps": [{"id": f"p{i}", "worker": "flaky", "command": "system.ping"} for i in range(n)],
    }


class Completions:
    """request.completed events on orchestrator.events, from now on."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.done: dict[str, float] = {}
        self.consumer: Any = None
        self.task: Any = None

    async def start(self) -> None:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=KAFKA, group_id=None, enable_auto_commit=False, fetch_max_wait_ms=20
        )
        await self.consumer.start()
        parts = self.consumer.partitions_for_topic(self.topic)
        if not parts:
            await self.consumer._client.force_metadata_update()
            parts = self.consumer.partitions_for_topic(self.topic) or {0, 1, 2, 3}
        tps = [TopicPartition(self.topic, p) for p in sorted(parts)]
        self.consumer.assign(tps)
        await self.consumer.seek_to_end(*tps)
        for tp in tps:
            await self.consumer.position(tp)
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for msg in self.consumer:
            event = orjson.loads(msg.value)
            if event["event"].startswith("request.") and event["request_status"] in (
                "completed",
                "failed",
                "timed_out",
                "cancelled",
            ):
                if event["request_status"] != "completed":
                    raise RuntimeError(f"workflow {event['request_id']} {event['request_status']}")
                self.done[event["request_id"]] = time.perf_counter()

    async def wait(self, rids: list[str], timeout: float = 300.0) -> float:
        deadline = time.perf_counter() + timeout
        while any(r not in self.done for r in rids):
            if self.task.done():
                self.task.result()
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{sum(r not in self.done for r in rids)} workflows unfinished")
            await asyncio.sleep(0.005)
        return max(self.done[r] for r in rids)

    async def stop(self) -> None:
        self.task.cancel()
        await self.consumer.stop()


async def start_workflow(bus: Any, definition: dict[str, Any]) -> str:
    r = await bus.call("orchestrator", "workflow.start", {"definition": definition}, timeout=120)
    assert r.status.value == "COMPLETED", r.error
    return str(r.result["request_id"])


async def run(ctx: BenchContext) -> list[Row]:
    n = 10 if ctx.quick else 20
    repeats = 2 if ctx.quick else 3
    concurrent = 100
    ctx.worker("orchestrator", env=ENV)
    ctx.worker("flaky", env=ENV)
    bus = await ctx.bus()
    events = Completions(f"{ctx.prefix}orchestrator.events")
    await events.start()
    try:
        for _ in range(3):  # warm up both paths
            await bus.call("flaky", "system.ping", {}, timeout=60)
            await events.wait([await start_workflow(bus, chain(2))])

        async def workflow_time(definition: dict[str, Any]) -> float:
            t0 = time.perf_counter()
            rid = await start_workflow(bus, definition)
            return await events.wait([rid]) - t0

        async def direct_chain(k: int) -> float:
            t0 = time.perf_counter()
            for _ in range(k):
                await bus.call("flaky", "system.ping", {}, timeout=60)
            return time.perf_counter() - t0

        async def direct_fan(k: int) -> float:
            t0 = time.perf_counter()
            await asyncio.gather(
                *(bus.call("flaky", "system.ping", {}, timeout=60) for _ in range(k))
            )
            return time.perf_counter() - t0

        seq_wf = median([await workflow_time(chain(n)) for _ in range(repeats)])
        seq_direct = median([await direct_chain(n) for _ in range(repeats)])
        par_wf = median([await workflow_time(fan(n)) for _ in range(repeats)])
        par_direct = median([await direct_fan(n) for _ in range(repeats)])

        three = chain(3)
        t0 = time.perf_counter()
        rids = await asyncio.gather(*(start_workflow(bus, three) for _ in range(concurrent)))
        wf_rate = concurrent / (await events.wait(list(rids)) - t0)
        t0 = time.perf_counter()
        await asyncio.gather(*(direct_chain(3) for _ in range(concurrent)))
        direct_rate = concurrent / (time.perf_counter() - t0)
    finally:
        await events.stop()
    return [
        Row(
            f"{n} no-op steps in a chain: workflow vs {n} sequential direct calls",
            seq_wf * 1000,
            seq_direct * 1000,
            "ms",
            "lower is better",
            f"{seq_wf / n * 1000:.0f} vs {seq_direct / n * 1000:.0f} ms per step",
        ),
        Row(
            f"{n} independent no-op steps: workflow vs {n} concurrent direct calls",
            par_wf * 1000,
            par_direct * 1000,
            "ms",
            "lower is better",
        ),
        Row(
            f"{concurrent} concurrent 3-step workflows vs {concurrent} concurrent 3-call chains",
            wf_rate,
            direct_rate,
            "requests/s",
            "higher is better",
            "a request = one workflow / one chain of 3 calls",
        ),
    ]

"""Scale: one vs two worker processes of one type on a 4-partition topic.

Both processes are the same worker (the test ``ledger`` plugin, which answers
``system.ping`` like every worker) in one consumer group, so Kafka gives each
two of the four partitions. Two loads, each measured on one process and then on
two, in the same run:

* I/O-bound: ``system.ping`` with ``delay_ms`` (the handler awaits, like a call
  to a model, a tool or another service) at the default ``MAX_CONCURRENCY``
  (4). One process is bounded by its concurrency slots, so a second process
  should double the rate: this is what the worker's design (partitions ->
  processes, ``MAX_CONCURRENCY`` per process) promises.
* CPU-bound: ``system.ping`` with no delay. On this 2-core machine the broker,
  the load generator and the worker(s) share the cores, so a second process has
  little spare CPU to use; the figure is reported as measured, not as a target.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid

from bench.bench_bus import PARTITIONS, Driver
from bench.common import BenchContext, Row
from tests.support.workers import WorkerProcess, http_get

PLUGIN = {"WORKER_PLUGINS": "ledger=tests.support.ledger_worker"}
DELAY_MS = 100


def _assigned(worker: WorkerProcess) -> int:
    try:
        _, body = http_get(f"{worker.url}/ready", timeout=3)
        return int(json.loads(body)["checks"]["kafka"]["assigned_partitions"])
    except (OSError, ValueError, KeyError):
        return -1


async def _balanced(workers: list[WorkerProcess], timeout: float = 120) -> None:
    """Wait until every process owns its share of the partitions (after the rebalance)."""
    share = PARTITIONS // len(workers)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(_assigned(w) == share for w in workers):
            return
        await asyncio.sleep(0.5)
    raise TimeoutError(f"partitions not balanced: {[_assigned(w) for w in workers]}")


async def _rate(driver: Driver, n: int, repeats: int) -> float:
    best = 0.0
    for _ in range(repeats):
        driver.sent.clear()
        driver.done.clear()
        best = max(best, n / await driver.blast(n))
    return best


async def _measure(ctx: BenchContext, processes: int, n_io: int, n_cpu: int) -> tuple[float, float]:
    prefix = f"s{uuid.uuid4().hex[:8]}."
    workers = [ctx.worker("ledger", env=PLUGIN, prefix=prefix) for _ in range(processes)]
    await _balanced(workers)
    requests = f"{prefix}worker.ledger.requests"
    results = f"{prefix}worker.ledger.results"
    repeats = 1 if ctx.quick else 2
    io = Driver(requests, results, payload={"delay_ms": DELAY_MS})
    await io.start()
    try:
        await io.blast(40)  # warm-up
        io_rate = await _rate(io, n_io, repeats)
    finally:
        await io.stop()
    cpu = Driver(requests, results)
    await cpu.start()
    try:
        await cpu.blast(100)
        cpu_rate = await _rate(cpu, n_cpu, repeats)
    finally:
        await cpu.stop()
    for w in workers:
        w.stop(timeout=30)
    return io_rate, cpu_rate


async def run(ctx: BenchContext) -> list[Row]:
    n_io = 200 if ctx.quick else 400
    n_cpu = 1000 if ctx.quick else 3000
    one_io, one_cpu = await _measure(ctx, 1, n_io, n_cpu)
    two_io, two_cpu = await _measure(ctx, 2, n_io, n_cpu)
    return [
        Row(
            f"2 vs 1 worker processes, system.ping delay_ms={DELAY_MS} (I/O-bound)",
            two_io,
            one_io,
            "cmd/s",
            ">= 1.6x",
            f"{n_io} commands, {PARTITIONS} partitions, MAX_CONCURRENCY=4 per process "
            f"(one process tops out at 4/{DELAY_MS / 1000:g}s = {4000 / DELAY_MS:.0f}/s)",
        ),
        Row(
            "2 vs 1 worker processes, system.ping no delay (CPU-bound)",
            two_cpu,
            one_cpu,
            "cmd/s",
            "(reported)",
            f"{n_cpu} commands; broker, load generator and workers share the machine's cores",
        ),
    ]

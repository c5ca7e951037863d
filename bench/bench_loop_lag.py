"""Event-loop lag while a burst of 50 heavy commands runs: compute pool vs on the loop.

Two scheduling workers on the same broker in the same run, one with the compute
pool (``COMPUTE_WORKERS`` default: the cores given to it) and one with
``COMPUTE_WORKERS=0`` (steps on the event loop: what every worker did before).
Each gets the same calendar (recurring events) and the same burst of
``calendar.free_slots`` commands over months, each a CPU-heavy expansion. We
read the worker's own ``worker_event_loop_lag_seconds`` histogram before and
after the burst (p99 interpolated within its buckets, as PromQL's
``histogram_quantile`` does) and probe its ``/ready`` (answered by the loop) during the burst. (A
``system.ping`` over the bus would wait behind the burst in the topic: that is
queueing, not loop lag.)
Target: loop-lag p99 < 100 ms with the pool.
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
import uuid
from typing import Any

from bench.common import BenchContext, Row, completed, percentile
from enginedge_streams.records import Status
from tests.support.workers import http_get

BURST = 50
LAG_METRIC = "worker_event_loop_lag_seconds"


def lag_buckets(url: str) -> dict[float, float]:
    """Cumulative bucket counts of the loop-lag histogram (upper bound -> count)."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    out: dict[float, float] = {}
    for line in text.splitlines():
        if line.startswith(f"{LAG_METRIC}_bucket"):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            out[float("inf") if le == "+Inf" else float(le)] = float(line.split()[-1])
    return out


def quantile(before: dict[float, float], after: dict[float, float], q: float) -> float:
    """The q-quantile of the samples taken between two scrapes (linear within a bucket)."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    total = counts[-1]
    if total <= 0:
        return float("nan")
    rank = q * total
    lower, below = 0.0, 0.0
    for bound, cumulative in zip(bounds, counts, strict=True):
        if cumulative >= rank:
            if bound == float("inf"):
                return lower
            inside = cumulative - below
            return lower + (bound - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = bound, cumulative
    return lower


async def prepare(bus: Any, events: int) -> str:
    cal = f"lag-{uuid.uuid4().hex[:6]}"
    await completed(
        bus,
        "scheduling",
        "calendar.create",
        {"calendar_id": cal, "name": "lag", "timezone": "Europe/Berlin"},
        60,
    )
    await asyncio.gather(
        *(
            completed(
                bus,
                "scheduling",
                "event.create",
                {
                    "calendar_id": cal,
                    "event_id": f"r{i}",
                    "title": f"recurring {i}",
                    "start": f"2026-01-01T{i % 24:02d}:{(7 * i) % 60:02d}:00Z",
                    "end": f"2026-01-01T{i % 24:02d}:{(7 * i) % 60:02d}:30Z",
                    "rrule": "FREQ=HOURLY;INTERVAL=3;BYMINUTE=0,20,40",
                },
                60,
            )
            for i in range(events)
        )
    )
    return cal


async def burst(ctx: BenchContext, env: dict[str, str], events: int, days: int) -> dict[str, float]:
    prefix = f"b{uuid.uuid4().hex[:8]}."
    worker = ctx.worker("scheduling", env=env, prefix=prefix)
    bus = await ctx.bus(prefix=prefix)
    cal = await prepare(bus, events)
    payload = {
        "calendar_ids": [cal],
        "start": "2026-02-01T00:00:00Z",
        "end": f"2026-{2 + days // 30:02d}-01T00:00:00Z",
        "timezone": "Europe/Berlin",
        "duration_minutes": 5,
        "max_slots": 10,
    }
    await completed(bus, "scheduling", "calendar.free_slots", payload, 600)  # warm
    await completed(bus, "scheduling", "system.ping", {}, 60)
    before = lag_buckets(worker.url)
    t0 = time.perf_counter()
    heavy = asyncio.gather(
        *(bus.call("scheduling", "calendar.free_slots", payload, timeout=900) for _ in range(BURST))
    )
    probes: list[float] = []
    while not heavy.done():
        p0 = time.perf_counter()
        status, _ = await asyncio.to_thread(http_get, f"{worker.url}/ready", 30.0)
        if status != 200:
            raise RuntimeError(f"/ready answered {status} during the burst")
        probes.append((time.perf_counter() - p0) * 1000)
        await asyncio.sleep(0.1)
    results = await heavy
    wall = time.perf_counter() - t0
    failed = [r.error for r in results if r.status is not Status.COMPLETED]
    if failed:
        raise RuntimeError(f"{len(failed)} heavy commands failed: {failed[0]}")
    after = lag_buckets(worker.url)
    busy = results[0].result["busy_occurrences"]
    ctx.peak_row(worker, "scheduling", "")  # stop it (and record its peak)
    return {
        "p99_ms": quantile(before, after, 0.99) * 1000,
        "max_bucket_ms": max(
            (b for b in after if after[b] - before.get(b, 0) > 0 and b != float("inf")),
            default=float("nan"),
        )
        * 1000,
        "ready_p99_ms": percentile(probes, 99),
        "probes": float(len(probes)),
        "wall_s": wall,
        "occurrences": float(busy),
    }


async def run(ctx: BenchContext) -> list[Row]:
    events = ctx.size(4, 8, 16)
    days = ctx.size(30, 60, 120)
    try:
        pool = await burst(ctx, {}, events, days)
        inline = await burst(ctx, {"COMPUTE_WORKERS": "0"}, events, days)
    finally:
        await ctx.close()
    notes = (
        f"{BURST} x calendar.free_slots at once, {int(pool['occurrences'])} occurrences each; "
        "reference: the same steps on the event loop (COMPUTE_WORKERS=0)"
    )
    return [
        Row("event-loop lag p99 during the burst", pool["p99_ms"], inline["p99_ms"], "ms",
            "< 100 ms", notes),
        Row("GET /ready p99 during the burst", pool["ready_p99_ms"], inline["ready_p99_ms"],
            "ms", "lower", f"{int(pool['probes'])} vs {int(inline['probes'])} probes"),
        Row("burst wall time", pool["wall_s"], inline["wall_s"], "s", "lower",
            "the pool uses every core given to the worker"),
    ]  # fmt: skip

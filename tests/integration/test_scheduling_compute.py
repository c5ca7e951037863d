"""Heavy and hostile scheduling commands on the real stack never stall the worker.

The measured failure this guards: ``calendar.free_slots`` over a year on a
``FREQ=SECONDLY`` event ran 264 s on the event loop (no ``/ready``, no other
command, the deadline never fired). Now expansion is lazy and runs in the
compute pool, whose child is killed at the command's deadline.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import psutil
import pytest

from enginedge_streams.records import Status
from tests.support.workers import http_get

pytestmark = pytest.mark.timeout(240)

YEAR = {
    "start": "2026-01-01T00:00:00Z",
    "end": "2027-01-01T00:00:00Z",
    "timezone": "UTC",
    "duration_minutes": 30,
}


@pytest.fixture(scope="module")
def worker(module_worker_factory):
    return module_worker_factory("scheduling", env={"COMPUTE_WORKERS": "2"})


def compute_children(pid: int) -> set[int]:
    """The pool's spawned children of a worker process."""
    out = set()
    for child in psutil.Process(pid).children():
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                out.add(child.pid)
        except psutil.NoSuchProcess:
            continue
    return out


async def _ok(bus, ctype, payload, **fields):
    result = await bus.call("scheduling", ctype, payload, timeout=60, **fields)
    assert result.status is Status.COMPLETED, (ctype, result.error)
    return result.result


async def _calendar_with(bus, rule: str, start: str) -> str:
    cal = f"hostile-{uuid.uuid4().hex[:6]}"
    await _ok(bus, "calendar.create", {"calendar_id": cal, "name": "H", "timezone": "UTC"})
    await _ok(
        bus,
        "event.create",
        {
            "calendar_id": cal,
            "event_id": "storm",
            "title": "storm",
            "start": start,
            "end": start.replace(":00Z", ":01Z"),
            "rrule": rule,
        },
    )
    return cal


async def _probe_while(worker, bus, running: asyncio.Future) -> tuple[list[float], list[int]]:
    """Ping the worker over the bus and probe /ready until ``running`` is done."""
    pings: list[float] = []
    ready: list[int] = []
    while not running.done():
        t0 = time.monotonic()
        result = await bus.call("scheduling", "system.ping", {}, timeout=10)
        assert result.status is Status.COMPLETED
        pings.append(time.monotonic() - t0)
        status, _ = await asyncio.to_thread(http_get, f"{worker.url}/ready", 2.0)
        ready.append(status)
        await asyncio.sleep(0.2)
    return pings, ready


async def test_secondly_rule_without_end_fails_fast_at_the_occurrence_limit(worker, module_bus):
    cal = await _calendar_with(module_bus, "FREQ=SECONDLY", "2026-01-01T09:00:00Z")
    t0 = time.monotonic()
    result = await module_bus.call(
        "scheduling",
        "calendar.free_slots",
        {"calendar_ids": [cal], **YEAR},
        timeout=60,
        timeout_ms=20_000,
    )
    assert result.status is Status.FAILED
    assert result.error.code == "TOO_MANY_OCCURRENCES"
    assert time.monotonic() - t0 < 10  # 20,001 instances, not 31.5 million


async def test_an_overrunning_expansion_is_killed_at_the_deadline_and_the_worker_keeps_answering(
    worker, module_bus
):
    bus = module_bus
    # A rule that cannot be fast-forwarded, from ten years before the range: reaching the
    # range means walking ~5 M instances (minutes of CPU) in the child.
    cal = await _calendar_with(bus, "FREQ=SECONDLY;BYSECOND=0", "2016-01-01T09:00:00Z")
    children_before = compute_children(worker.pid)
    assert len(children_before) == 2
    deadline_s = 6.0
    await bus.call("scheduling", "system.ping", {}, timeout=10)  # listener warm
    t0 = time.monotonic()
    heavy = asyncio.ensure_future(
        bus.call(
            "scheduling",
            "calendar.free_slots",
            {"calendar_ids": [cal], **YEAR},
            timeout=60,
            timeout_ms=int(deadline_s * 1000),
        )
    )
    await asyncio.sleep(0.5)  # let the step start in a child
    pings, ready = await _probe_while(worker, bus, heavy)
    result = await heavy
    took = time.monotonic() - t0
    print(
        f"FAILED after {took:.2f} s (deadline {deadline_s} s); {len(pings)} pings, max "
        f"{max(pings) * 1000:.0f} ms; /ready {ready}; pings ms {[round(p * 1000) for p in pings]}"
    )
    assert result.status is Status.FAILED
    assert result.error.code == "DEADLINE_EXCEEDED", result.error
    assert took < deadline_s + 2.0, took
    assert len(pings) >= 5 and max(pings) < 0.2, pings
    assert set(ready) == {200}, ready
    # The overrunning child was killed and replaced; the pool is whole again.
    for _ in range(100):
        after = compute_children(worker.pid)
        if len(after) == 2 and after != children_before:
            break
        await asyncio.sleep(0.1)
    assert len(after) == 2 and len(after & children_before) == 1, (children_before, after)
    # ... and the next command succeeds.
    ok = await _ok(
        bus,
        "calendar.free_slots",
        {
            "calendar_ids": [cal],
            "start": "2016-01-01T10:00:00Z",
            "end": "2016-01-02T00:00:00Z",
            "timezone": "UTC",
            "working_hours": {"fri": [["10:00", "12:00"]]},
            "duration_minutes": 1,
        },
    )
    assert ok["busy_occurrences"] > 0
    # The loop-lag histogram was sampled all along and saw no stall.
    status, body = http_get(f"{worker.url}/metrics")
    assert status == 200
    text = body.decode()
    count = _sample(text, 'worker_event_loop_lag_seconds_count{worker_type="scheduling"}')
    slow = count - _sample(
        text, 'worker_event_loop_lag_seconds_bucket{le="0.2",worker_type="scheduling"}'
    )
    assert count > 10 and slow == 0, (count, slow)


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{name} not in /metrics")


@pytest.mark.parametrize("how", ["stop", "kill"])
async def test_the_pool_dies_with_its_worker(worker_factory, how):
    w = worker_factory("scheduling", env={"COMPUTE_WORKERS": "2"})
    children = compute_children(w.pid)
    assert len(children) == 2
    if how == "stop":
        w.stop()  # SIGTERM: the runtime stops the pool at shutdown
    else:
        w.kill()  # SIGKILL: no shutdown code runs, PR_SET_PDEATHSIG takes the children
    for _ in range(50):
        alive = [p for p in children if psutil.pid_exists(p) and _not_zombie(p)]
        if not alive:
            break
        await asyncio.sleep(0.1)
    assert alive == []


def _not_zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False

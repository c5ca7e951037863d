"""The process compute pool for real: hard time limits, memory caps, replacement, deadlines."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime, timedelta

import pytest

from enginedge_streams.compute import ProcessComputePool, deadline_scope
from enginedge_streams.errors import (
    DeadlineExceededError,
    LimitExceededError,
    PermanentError,
    RateLimitedError,
)

pytestmark = pytest.mark.timeout(120)


def spin(seconds: float) -> int:
    """Pure-Python busy work that never yields (what stalled the loop before)."""
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
    return os.getpid()


def pid() -> int:
    return os.getpid()


def allocate(mb: int) -> int:
    block = bytearray(mb * 1024 * 1024)
    return len(block)


def refuse() -> None:
    raise RateLimitedError("slow down", details={"limit": 3}, retry_after=2.0)


def crash() -> None:
    os._exit(7)


@pytest.fixture
async def pool():
    p = ProcessComputePool(2, memory_limit_mb=256, warm_modules=["json"])
    await p.start()
    yield p
    await p.stop()


async def _children(pool) -> set[int]:
    """The pids of both children (two concurrent steps long enough to occupy one each)."""
    for _ in range(40):
        pids = set(await asyncio.gather(*(pool.run(spin, 0.3) for _ in range(2))))
        if len(pids) == 2:
            return pids
    raise AssertionError("the pool never had two children")


async def test_an_overrunning_step_is_killed_at_its_limit_and_its_child_replaced(pool):
    import psutil

    before = await _children(pool)
    t0 = time.monotonic()
    with pytest.raises(LimitExceededError) as info:
        await pool.run(spin, 30.0, timeout_s=0.5, limit_code="PARSE_TIME_LIMIT")
    took = time.monotonic() - t0
    assert info.value.code == "PARSE_TIME_LIMIT"
    assert took < 1.5, took
    assert pool.killed == 1
    # The pool is whole again: two children, one of them new; the killed one is gone.
    after = await _children(pool)
    assert len(after - before) == 1
    (killed,) = before - after
    assert not psutil.pid_exists(killed) or psutil.Process(killed).status() == "zombie"


async def test_the_commands_deadline_binds_when_it_is_sooner(pool):
    deadline = datetime.now(UTC) + timedelta(seconds=0.6)
    t0 = time.monotonic()
    with deadline_scope(deadline), pytest.raises(DeadlineExceededError) as info:
        await pool.run(spin, 30.0, timeout_s=20.0, limit_code="PARSE_TIME_LIMIT")
    assert info.value.code == "DEADLINE_EXCEEDED"
    assert time.monotonic() - t0 < 1.6
    # A deadline already past fails at once, without using a child.
    with deadline_scope(datetime.now(UTC) - timedelta(seconds=1)):
        with pytest.raises(DeadlineExceededError):
            await pool.run(pid)


async def test_time_queued_behind_busy_children_counts(pool):
    busy = [asyncio.ensure_future(pool.run(spin, 1.5)) for _ in range(2)]
    await asyncio.sleep(0.1)
    t0 = time.monotonic()
    with pytest.raises(LimitExceededError):
        await pool.run(pid, timeout_s=0.5, limit_code="STEP_LIMIT")
    assert time.monotonic() - t0 < 1.2
    await asyncio.gather(*busy)


async def test_memory_limit_fails_the_step_not_the_pool(pool):
    assert await pool.run(allocate, 16) == 16 * 1024 * 1024
    with pytest.raises(LimitExceededError) as info:
        await pool.run(allocate, 1024)
    assert info.value.code == "MEMORY_LIMIT_EXCEEDED"
    assert await pool.run(allocate, 16) == 16 * 1024 * 1024


async def test_errors_keep_their_type_code_and_details(pool):
    with pytest.raises(RateLimitedError) as info:
        await pool.run(refuse)
    assert info.value.code == "RATE_LIMITED"
    assert info.value.details == {"limit": 3}
    assert info.value.retryable


async def test_a_child_that_dies_fails_its_step_and_is_replaced(pool):
    with pytest.raises(PermanentError) as info:
        await pool.run(crash)
    assert info.value.code == "COMPUTE_PROCESS_DIED"
    assert info.value.details["exit_code"] == 7
    assert await pool.run(spin, 0.01) > 0


async def test_cancelling_the_caller_kills_the_step(pool):
    task = asyncio.ensure_future(pool.run(spin, 30.0))
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # Both children free again long before the 30 s step would have ended (the spinning one
    # was stopped; its replacement is a new spawned interpreter, which takes seconds to start
    # on a loaded machine).
    t0 = time.monotonic()
    await asyncio.gather(*(pool.run(spin, 0.2) for _ in range(2)))
    assert time.monotonic() - t0 < 15.0


async def test_stop_leaves_no_child_behind():
    import psutil

    p = ProcessComputePool(2, warm_modules=[])
    await p.start()
    children = {c.pid for c in psutil.Process().children(recursive=True)}
    worker_pids = {await p.run(pid) for _ in range(4)}
    assert worker_pids <= children
    await p.stop()
    time.sleep(0.2)
    alive = [
        q for q in worker_pids if psutil.pid_exists(q) and psutil.Process(q).status() != "zombie"
    ]
    assert alive == []


async def test_a_failing_warm_up_does_not_stop_the_pool():
    p = ProcessComputePool(1, warm_modules=["tests.integration.no_such_module"])
    await asyncio.wait_for(p.start(), 60)
    try:
        assert await p.run(pid) > 0
    finally:
        await p.stop()

"""The compute-pool contract without processes: limits, the deadline contextvar, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel

from enginedge_streams.compute import (
    InlineComputePool,
    command_deadline,
    deadline_scope,
    default_workers,
    needs_compute,
    step_limit,
)
from enginedge_streams.errors import DeadlineExceededError, LimitExceededError, NotFoundError
from enginedge_streams.testing.compute_pool import InProcessComputePool

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def double(x: int) -> int:
    return 2 * x


def missing(name: str) -> None:
    raise NotFoundError(f"no {name}", code="THING_NOT_FOUND", details={"name": name})


def test_the_step_limit_is_the_smaller_of_its_own_and_the_deadline():
    assert step_limit(None, now=NOW) == step_limit(None, now=NOW)
    assert step_limit(None, now=NOW).seconds is None
    assert step_limit(5.0, now=NOW).seconds == 5.0
    with deadline_scope(NOW + timedelta(seconds=3)):
        limit = step_limit(5.0, now=NOW)
        assert (limit.seconds, limit.deadline_bound) == (3.0, True)
        limit = step_limit(1.0, now=NOW)
        assert (limit.seconds, limit.deadline_bound) == (1.0, False)
        assert step_limit(None, now=NOW).seconds == 3.0
    assert command_deadline.get() is None  # the scope is reset


def test_limit_errors_name_the_binding_limit():
    assert isinstance(step_limit(None).error("s", "X"), LimitExceededError)
    with deadline_scope(NOW):
        err = step_limit(10.0, now=NOW + timedelta(seconds=1)).error("step", "PARSE_LIMIT")
    assert isinstance(err, DeadlineExceededError) and err.code == "DEADLINE_EXCEEDED"
    err = step_limit(2.0, now=NOW).error("step", "PARSE_LIMIT")
    assert err.code == "PARSE_LIMIT" and err.details == {"step": "step", "limit_s": 2.0}


@pytest.mark.parametrize("pool_cls", [InProcessComputePool, InlineComputePool])
async def test_fakes_keep_the_contract(pool_cls):
    pool = pool_cls()
    await pool.start()
    assert await pool.run(double, 21) == 42
    with pytest.raises(NotFoundError) as info:
        await pool.run(missing, "x")
    assert info.value.code == "THING_NOT_FOUND" and info.value.details == {"name": "x"}
    with deadline_scope(datetime.now(UTC) - timedelta(seconds=1)):
        with pytest.raises(DeadlineExceededError):
            await pool.run(double, 1)
    assert pool.calls[0][0].endswith("double")
    await pool.stop()


async def test_the_in_process_fake_refuses_what_a_process_could_not_receive():
    pool = InProcessComputePool()
    with pytest.raises(Exception, match=r"pickle|local"):
        await pool.run(lambda: 1)


def test_default_workers_are_the_cores_given_to_the_process(tmp_path):
    import os

    cores = len(os.sched_getaffinity(0))
    none = str(tmp_path / "none")
    assert default_workers(none, none) == cores
    (tmp_path / "unlimited").write_text("max 100000\n")
    assert default_workers(str(tmp_path / "unlimited"), none) == cores
    (tmp_path / "quota").write_text("50000 100000\n")  # half a core: one child
    assert default_workers(str(tmp_path / "quota"), none) == 1
    v1 = tmp_path / "v1"
    v1.mkdir()
    (v1 / "cpu.cfs_quota_us").write_text("-1\n")
    (v1 / "cpu.cfs_period_us").write_text("100000\n")
    assert default_workers(none, str(v1)) == cores
    (v1 / "cpu.cfs_quota_us").write_text("100000\n")  # one core (cgroup v1)
    assert default_workers(none, str(v1)) == 1


async def test_the_loop_lag_sampler_sees_a_stalled_loop():
    import asyncio
    import time

    from enginedge_streams.metrics import LoopLagSampler

    seen: list[float] = []
    sampler = LoopLagSampler(seen.append, interval_s=0.01)
    sampler.start()
    await asyncio.sleep(0.05)
    time.sleep(0.2)  # synchronous work on the loop: what the pool exists to prevent
    await asyncio.sleep(0.05)
    await sampler.stop()
    assert max(seen) >= 0.15
    assert sorted(seen)[len(seen) // 2] < 0.1  # the other samples are not stalls
    assert list(sampler.recent) == seen


class _Payload(BaseModel):
    n: int


async def _step_handler(cmd: _Payload, *, compute: InProcessComputePool) -> dict[str, object]:
    limits.append(step_limit(None).seconds)
    return {"double": await compute.run(double, cmd.n)}


async def _missing_handler(cmd: _Payload, *, compute: InProcessComputePool) -> None:
    await compute.run(missing, str(cmd.n))


limits: list[float | None] = []


async def test_the_processor_gives_steps_its_deadline_and_fails_commands_with_their_codes():
    from enginedge_streams.handlers import CommandSpec, bind
    from enginedge_streams.records import Command, Status
    from enginedge_streams.testing.processor import in_memory_processor

    pool = InProcessComputePool()
    specs = [
        CommandSpec("x.double", _Payload, _step_handler),
        CommandSpec("x.missing", _Payload, _missing_handler),
    ]
    assert needs_compute(specs)
    proc = in_memory_processor("w", bind(specs, {"compute": pool}), timeout_s=30.0)
    ok = await proc.execute(Command(command_type="x.double", payload={"n": 4}))
    assert ok is not None and ok.status is Status.COMPLETED and ok.result == {"double": 8}
    assert limits[-1] is not None and 25 < limits[-1] <= 30  # the command's remaining time
    assert pool.calls[-1][1] == pytest.approx(limits[-1], abs=1)
    failed = await proc.execute(Command(command_type="x.missing", payload={"n": 4}))
    assert failed is not None and failed.status is Status.FAILED
    assert failed.error is not None and failed.error.code == "THING_NOT_FOUND"
    assert command_deadline.get() is None  # nothing leaks out of the command

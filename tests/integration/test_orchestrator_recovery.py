"""Crash behaviour of the orchestrator and its worker registry on the real broker.

* the orchestrator SIGKILLed mid-workflow and restarted resumes the request from its
  table, without running completed steps again;
* a worker SIGKILLed disappears from the registry after three heartbeat intervals (a step
  for its type then waits, with the reason) and reappears when restarted.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest

from tests.support.orchestrator import (
    PLUGINS,
    TOKEN,
    executions,
    finished,
    flaky_step,
    start,
    step,
    wait_for,
)
from tests.support.workers import WorkerProcess

pytestmark = [pytest.mark.timeout(240)]

FAST = {
    "WORKER_PLUGINS": PLUGINS,
    "LOG_LEVEL": "warning",
    "BROKER_SESSION_TIMEOUT": "6",
    "BROKER_HEARTBEAT_INTERVAL": "1",
    "BROKER_COMMIT_INTERVAL": "1.0",
}


def _workers_view(orch: WorkerProcess, include_gone: bool = True) -> dict:
    import urllib.request

    url = f"{orch.url}/workers" + ("?all=true" if include_gone else "")
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


async def test_orchestrator_killed_mid_workflow_resumes_without_rerunning_steps(
    worker_factory, bus, tmp_path
):
    run = uuid.uuid4().hex
    orch = worker_factory(
        "orchestrator",
        env={**FAST, "API_TOKEN": TOKEN, "LOG_LEVEL": "info"},
        data_dir=tmp_path / "orch",
        start=False,
    )
    flaky = worker_factory("flaky", env={**FAST, "MAX_CONCURRENCY": "4"}, start=False)
    for w in (orch, flaky):
        w.start(wait=False)
    for w in (orch, flaky):
        w.wait_ready(150)
    definition = {
        "name": "chain",
        "steps": [
            flaky_step("a", run),
            flaky_step("b", run, sleep_ms=4000, value={"$ref": "steps.a.result.key"}),
            flaky_step("c", run, value={"$ref": "[steps.a.result.key, steps.b.result.key]"}),
        ],
    }
    view = await start(bus, {"definition": definition})
    rid = view["request_id"]
    await wait_for(bus, rid, lambda v: step(v, "b")["status"] == "running", 60)
    orch.kill()  # SIGKILL while b runs on the worker
    await asyncio.sleep(1.0)
    orch.start(wait=False)  # same RocksDB directory and consumer group
    orch.wait_ready(150)
    view = await finished(bus, rid, timeout=90)
    assert view["status"] == "completed", view
    assert view["output"]["c"]["value"] == ["a", "b"]
    ran = await executions(run)
    # every step ran exactly once: a was not re-run, b (re-sent with the same id) deduplicated
    assert ran == {f"{rid}.a.0.1": 1, f"{rid}.b.0.1": 1, f"{rid}.c.0.1": 1}
    assert [step(view, s)["attempts"] for s in "abc"] == [1, 1, 1]
    log = "\n".join(orch.log_lines())
    assert "resuming 1 unfinished workflow request(s)" in log


async def test_a_killed_worker_leaves_the_registry_after_three_intervals_and_returns(
    worker_factory, bus
):
    orch = worker_factory(
        "orchestrator",
        env={**FAST, "API_TOKEN": TOKEN, "ORCHESTRATOR_TICK_SECONDS": "0.2"},
        start=False,
    )
    flaky = worker_factory("flaky", env={**FAST, "HEALTH_CHECK_INTERVAL": "1"}, start=False)
    for w in (orch, flaky):
        w.start(wait=False)
    for w in (orch, flaky):
        w.wait_ready(150)

    def instance(pid: int) -> dict | None:
        return next(
            (
                r
                for r in _workers_view(orch)["instances"]
                if r["worker_type"] == "flaky" and r["pid"] == pid
            ),
            None,
        )

    deadline = time.monotonic() + 30
    while (row := instance(flaky.pid)) is None or row["state"] != "live":
        assert time.monotonic() < deadline, _workers_view(orch)
        await asyncio.sleep(0.3)
    assert row["interval_seconds"] == 1.0 and row["assigned_partitions"]
    old_pid = flaky.pid
    flaky.kill()
    killed = time.monotonic()
    states = []
    while True:
        row = instance(old_pid)
        states.append((round(time.monotonic() - killed, 2), row["state"]))
        if row["state"] == "missing":
            break
        assert time.monotonic() - killed < 15, states
        await asyncio.sleep(0.25)
    gone_after = time.monotonic() - killed
    # the last beat was at most one interval before the kill: missing 2..3 s (+ slack) after it
    assert 1.5 <= gone_after <= 8.0, states
    assert row["seconds_since_heartbeat"] >= 3.0
    assert "flaky" not in _workers_view(orch, include_gone=False)["live_types"]

    # a step for a type with no live instance waits, and says why
    view = await start(
        bus, {"workflow": "single-worker", "input": {"worker": "flaky", "command": "system.ping"}}
    )
    rid = view["request_id"]
    view = await wait_for(bus, rid, lambda v: step(v, "run")["status"] == "waiting", 30)
    reason = step(view, "run")["reason"]
    assert reason.startswith("no live instance of worker type 'flaky'") and "missing" in reason

    flaky.start(wait=False)  # a new process: a new instance id
    flaky.wait_ready(150)
    view = await finished(bus, rid, timeout=60)
    assert view["status"] == "completed" and view["output"]["pid"] == flaky.pid
    rows = {
        r["pid"]: r["state"]
        for r in _workers_view(orch)["instances"]
        if r["worker_type"] == "flaky"
    }
    assert rows[flaky.pid] == "live" and rows[old_pid] == "missing"
    live = [
        r["pid"]
        for r in _workers_view(orch, include_gone=False)["instances"]
        if r["worker_type"] == "flaky"
    ]
    assert live == [flaky.pid]

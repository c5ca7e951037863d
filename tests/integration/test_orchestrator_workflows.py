"""The orchestrator over the real Kafka with real worker processes: DAGs, retries, deadlines,
cancel, idempotency, fan-out, custom YAML, events, HTTP and the CLI."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from tests.support.orchestrator import (
    PLUGINS,
    TOKEN,
    executions,
    finished,
    flaky_step,
    get,
    start,
    step,
    wait_for,
)
from tests.support.stack import KAFKA, REDIS_URL
from tests.support.workers import ROOT, http_get, http_post

pytestmark = pytest.mark.timeout(120)

CUSTOM = """
name: sum-all
description: a custom workflow from WORKFLOWS_DIR
input_schema:
  type: object
  required: [run, numbers]
steps:
  - id: square
    worker: flaky
    command: flaky.run
    for_each: input.numbers
    max_parallel: 2
    payload:
      run: {$ref: input.run}
      key: {$text: "sq-${index}"}
      value: {$ref: item}
    aggregate: "sum(results[].value)"
output:
  total: {$ref: steps.square.result}
"""


@pytest.fixture(scope="module")
def workers(module_worker_factory, tmp_path_factory):
    wf_dir = tmp_path_factory.mktemp("workflows")
    (wf_dir / "square.yaml").write_text(CUSTOM)
    common = {"WORKER_PLUGINS": PLUGINS, "LOG_LEVEL": "warning"}
    orch = module_worker_factory(
        "orchestrator",
        start=False,
        env={
            **common,
            "WORKFLOWS_DIR": str(wf_dir),
            "API_TOKEN": TOKEN,
            "STEP_RETRY_BACKOFF_MS": "200",
            "ORCHESTRATOR_TICK_SECONDS": "0.2",
        },
    )
    flaky = module_worker_factory(
        "flaky", start=False, env={**common, "RETRY_MAX_ATTEMPTS": "1", "MAX_CONCURRENCY": "8"}
    )
    flaky2 = module_worker_factory("flaky2", start=False, env={**common, "MAX_CONCURRENCY": "8"})
    for w in (orch, flaky, flaky2):
        w.start(wait=False)
    for w in (orch, flaky, flaky2):
        w.wait_ready(150)
    return {"orchestrator": orch, "flaky": flaky, "flaky2": flaky2}


def _t(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


async def test_parallel_branches_run_concurrently(workers, module_bus):
    definition = {
        "name": "diamond",
        "steps": [
            {"id": "a", "worker": "flaky", "command": "system.ping", "payload": {"echo": "a"}},
            {
                "id": "b",
                "worker": "flaky",
                "command": "system.ping",
                "payload": {"delay_ms": 2000},
                "needs": ["a"],
            },
            {
                "id": "c",
                "worker": "flaky2",
                "command": "system.ping",
                "payload": {"delay_ms": 2000},
                "needs": ["a"],
            },
            {
                "id": "d",
                "worker": "flaky2",
                "command": "system.ping",
                "payload": {
                    "echo": {"$text": "${steps.b.result.worker_type}+${steps.c.result.worker_type}"}
                },
            },
        ],
    }
    view = await start(module_bus, {"definition": definition})
    view = await finished(module_bus, view["request_id"])
    assert view["status"] == "completed", view
    b, c, d = step(view, "b"), step(view, "c"), step(view, "d")
    b_run = (_t(b["worker_started_at"]), _t(b["worker_started_at"]) + b["processing_ms"] / 1000)
    c_run = (_t(c["worker_started_at"]), _t(c["worker_started_at"]) + c["processing_ms"] / 1000)
    overlap = min(b_run[1], c_run[1]) - max(b_run[0], c_run[0])
    assert overlap > 1.5, (b_run, c_run)  # both 2 s pings ran side by side on two workers
    assert _t(d["started_at"]) >= max(_t(b["finished_at"]), _t(c["finished_at"]))
    assert d["result"]["echo"] == "flaky+flaky2"
    assert view["output"] == {"d": d["result"]}


async def test_a_step_failing_twice_then_succeeding_is_retried(workers, module_bus):
    run = uuid.uuid4().hex
    flaky = {
        "id": "s",
        "worker": "flaky",
        "command": "flaky.run",
        "payload": {"run": run, "key": "twice", "fail_times": 2},
    }
    exhausted = {**flaky, "payload": {"run": run, "key": "always", "fail_times": 99}, "retries": 1}
    ok_view = await start(module_bus, {"definition": {"name": "retry", "steps": [flaky]}})
    bad_view = await start(module_bus, {"definition": {"name": "retry", "steps": [exhausted]}})
    view = await finished(module_bus, ok_view["request_id"])
    assert view["status"] == "completed", view
    s = step(view, "s")
    assert s["attempts"] == 3 and s["result"]["attempt"] == 3
    assert [e["code"] for e in s["earlier_errors"]] == ["FLAKY", "FLAKY"]
    assert s["command_id"].endswith(".s.0.3")
    rid = ok_view["request_id"]
    ran = await executions(run)
    assert {cid: n for cid, n in ran.items() if cid.startswith(rid)} == {
        f"{rid}.s.0.{n}": 1 for n in (1, 2, 3)
    }
    view = await finished(module_bus, bad_view["request_id"])
    assert view["status"] == "failed"
    assert view["error"]["code"] == "FLAKY" and view["error"]["step"] == "s"
    assert step(view, "s")["attempts"] == 2


async def test_a_step_past_its_deadline_times_out_the_request(workers, module_bus):
    definition = {
        "name": "slow",
        "steps": [
            {
                "id": "slow",
                "worker": "flaky",
                "command": "system.ping",
                "payload": {"delay_ms": 20000},
                "timeout_seconds": 1.5,
            },
            {"id": "never", "worker": "flaky", "command": "system.ping", "needs": ["slow"]},
        ],
    }
    t0 = time.monotonic()
    view = await start(module_bus, {"definition": definition})
    view = await finished(module_bus, view["request_id"], timeout=30)
    assert view["status"] == "timed_out", view
    assert time.monotonic() - t0 < 15
    assert view["error"]["code"] in ("STEP_TIMED_OUT", "DEADLINE_EXCEEDED")
    assert view["error"]["step"] == "slow"
    assert step(view, "slow")["status"] == "timed_out"
    assert step(view, "never")["status"] == "cancelled" and step(view, "never")["attempts"] == 0


async def test_cancel_mid_run_stops_the_remaining_steps(workers, module_bus):
    run = uuid.uuid4().hex
    definition = {
        "name": "three",
        "steps": [
            flaky_step("a", run),
            flaky_step("b", run, sleep_ms=2500, value={"$ref": "steps.a.result.key"}),
            flaky_step("c", run, value={"$ref": "steps.b.result.key"}),
        ],
    }
    view = await start(module_bus, {"definition": definition})
    rid = view["request_id"]
    await wait_for(module_bus, rid, lambda v: step(v, "b")["status"] == "running", 30)
    result = await module_bus.call(
        "orchestrator", "workflow.cancel", {"request_id": rid, "reason": "test"}, timeout=30
    )
    assert result.status.value == "COMPLETED" and result.result["status"] == "cancelled"
    await asyncio.sleep(4)  # b finishes on its worker meanwhile; its result must change nothing
    view = await get(module_bus, rid)
    assert view["status"] == "cancelled" and view["error"]["message"] == "test"
    assert [step(view, s)["status"] for s in "abc"] == ["completed", "cancelled", "cancelled"]
    ran = await executions(run)
    assert f"{rid}.b.0.1" in ran and not any(".c." in cid for cid in ran)


async def test_the_same_idempotency_key_twice_is_one_request(workers, module_bus):
    run = uuid.uuid4().hex
    key = f"order-{run}"
    payload = {
        "definition": {
            "name": "once",
            "steps": [
                {
                    "id": "s",
                    "worker": "flaky",
                    "command": "flaky.run",
                    "payload": {"run": run, "sleep_ms": 300},
                }
            ],
        },
        "input": {"n": 1},
        "idempotency_key": key,
    }
    first, second = await asyncio.gather(start(module_bus, payload), start(module_bus, payload))
    assert first["request_id"] == second["request_id"]
    view = await finished(module_bus, first["request_id"])
    third = await start(module_bus, payload)
    assert third["request_id"] == first["request_id"] and third["existing"] is True
    assert third["status"] == "completed"
    assert view["status"] == "completed"
    assert await executions(run) == {f"{first['request_id']}.s.0.1": 1}
    other = await module_bus.call(
        "orchestrator", "workflow.start", {**payload, "input": {"n": 2}}, timeout=30
    )
    assert other.status.value == "FAILED" and other.error.code == "IDEMPOTENCY_KEY_REUSED"


async def test_custom_yaml_fan_out_and_fan_in(workers, module_bus):
    run = uuid.uuid4().hex
    view = await start(
        module_bus, {"workflow": "sum-all", "input": {"run": run, "numbers": [1, 2, 3, 4, 5]}}
    )
    view = await finished(module_bus, view["request_id"])
    assert view["status"] == "completed", view
    assert view["output"] == {"total": 15}
    sq = step(view, "square")
    assert sq["items"] == {"total": 5, "completed": 5}
    assert len(await executions(run)) == 5
    bad = await module_bus.call(
        "orchestrator", "workflow.start", {"workflow": "sum-all", "input": {}}, timeout=30
    )
    assert bad.status.value == "FAILED" and bad.error.code == "INVALID_INPUT"
    assert "input: 'run' is a required property" in bad.error.message


async def test_single_worker_and_invalid_inline_definitions(workers, module_bus):
    view = await start(
        module_bus,
        {
            "workflow": "single-worker",
            "input": {"worker": "flaky2", "command": "system.ping", "payload": {"echo": "x"}},
        },
    )
    view = await finished(module_bus, view["request_id"])
    assert view["status"] == "completed" and view["output"]["echo"] == "x"
    assert view["output"]["worker_type"] == "flaky2"
    bad = await module_bus.call(
        "orchestrator",
        "workflow.start",
        {
            "definition": {
                "name": "bad",
                "steps": [
                    {
                        "id": "a",
                        "worker": "flakey",
                        "command": "flaky.run",
                        "payload": {"run": {"$ref": "steps.z.result"}},
                    }
                ],
            }
        },
        timeout=30,
    )
    assert bad.status.value == "FAILED" and bad.error.code == "INVALID_WORKFLOW"
    problems = bad.error.details["problems"]
    assert any(
        "steps[0] (a).worker: unknown worker type 'flakey' (did you mean 'flaky'?)" in p
        for p in problems
    )
    assert any(
        "steps[0] (a).payload.run: 'steps.z.result': unknown step 'z'" in p for p in problems
    )


async def test_status_changes_are_published_to_orchestrator_events(
    workers, module_bus, module_prefix
):
    topic = f"{module_prefix}orchestrator.events"
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or range(4)]
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        for tp in tps:
            await consumer.position(tp)
        view = await start(
            module_bus,
            {"workflow": "single-worker", "input": {"worker": "flaky", "command": "system.ping"}},
        )
        rid = view["request_id"]
        seen: list[dict] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
            e["event"] == "request.completed" for e in seen
        ):
            for msgs in (await consumer.getmany(timeout_ms=500)).values():
                seen += [orjson.loads(m.value) for m in msgs if m.key == rid.encode()]
    finally:
        await consumer.stop()
    names = [e["event"] for e in sorted(seen, key=lambda e: e["seq"])]
    assert names[:2] == ["request.created", "request.running"]
    assert {"step.ready", "step.running", "step.attempt", "step.completed"} <= set(names)
    assert names[-1] == "request.completed"
    assert [e["seq"] for e in sorted(seen, key=lambda e: e["seq"])] == list(range(1, len(seen) + 1))


async def test_http_api_with_the_static_token(workers):
    base = workers["orchestrator"].url
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    body = json.dumps(
        {
            "workflow": "single-worker",
            "input": {"worker": "flaky", "command": "system.ping", "payload": {"echo": "http"}},
        }
    ).encode()
    status, raw = await asyncio.to_thread(
        http_post, f"{base}/orchestrate", body, {"Content-Type": "application/json"}
    )
    assert status == 401
    status, raw = await asyncio.to_thread(
        http_post, f"{base}/orchestrate", body, {**auth, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert status == 202, raw
    accepted = json.loads(raw)
    rid = accepted["request_id"]
    assert accepted["status_url"] == f"/orchestrate/{rid}" and accepted["status"] in (
        "running",
        "pending",
    )
    view: dict = {}
    for _ in range(100):
        status, raw = await asyncio.to_thread(_get_with, f"{base}/orchestrate/{rid}", auth)
        view = json.loads(raw)
        if status == 200 and view["status"] == "completed":
            break
        await asyncio.sleep(0.2)
    assert view["status"] == "completed" and view["output"]["echo"] == "http"
    status, raw = await asyncio.to_thread(_get_with, f"{base}/orchestrate/wf-unknown", auth)
    assert status == 404
    bad = json.dumps({"workflow": "no-such-workflow"}).encode()
    status, raw = await asyncio.to_thread(http_post, f"{base}/orchestrate", bad, auth)
    assert status == 404 and json.loads(raw)["error"]["code"] == "UNKNOWN_WORKFLOW"
    slow = json.dumps(
        {
            "workflow": "single-worker",
            "input": {"worker": "flaky", "command": "system.ping", "payload": {"delay_ms": 8000}},
        }
    ).encode()
    status, raw = await asyncio.to_thread(http_post, f"{base}/orchestrate", slow, auth)
    assert status == 202, raw
    slow_id = json.loads(raw)["request_id"]
    status, raw = await asyncio.to_thread(
        http_post, f"{base}/orchestrate/{slow_id}/cancel", b'{"reason": "over http"}', auth
    )
    assert status == 200, raw
    cancelled = json.loads(raw)
    assert cancelled["status"] == "cancelled" and cancelled["request_id"] == slow_id
    status, raw = await asyncio.to_thread(_get_with, f"{base}/workers", auth)
    live = json.loads(raw)["live_types"]
    assert {"flaky", "flaky2", "orchestrator"} <= set(live)
    status, _ = await asyncio.to_thread(http_get, f"{base}/workers")
    assert status == 401


def _get_with(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


async def test_cli_workflow_run_and_workers(workers, module_prefix, tmp_path):
    env = {
        **os.environ,
        "TOPIC_PREFIX": module_prefix,
        "KAFKA_BROKERS": KAFKA,
        "REDIS_URL": REDIS_URL,
        "PYTHONPATH": str(ROOT),
        "WORKER_PLUGINS": PLUGINS,
    }

    async def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "enginedge_streams.cli.main", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    run = uuid.uuid4().hex
    (tmp_path / "input.json").write_text(json.dumps({"run": run, "numbers": [2, 3]}))
    proc = await cli(
        "workflow", "run", "sum-all", "--input", f"@{tmp_path / 'input.json'}", timeout=90
    )
    assert proc.returncode == 0, proc.stderr
    assert "request.completed" in proc.stdout and "step.attempt square" in proc.stdout
    assert '"total": 5' in proc.stdout
    slow = json.dumps({"worker": "flaky", "command": "system.ping", "payload": {"delay_ms": 10000}})
    proc = await cli("workflow", "run", "single-worker", "--input", slow, "--no-wait")
    assert proc.returncode == 0, proc.stderr
    rid = proc.stdout.strip()
    assert rid.startswith("wf-")
    proc = await cli("workflow", "cancel", rid)
    assert proc.returncode == 0 and proc.stdout.strip() == f"{rid}: cancelled", proc.stderr
    proc = await cli("workflow", "status", rid)
    assert proc.returncode == 1  # finished, but not completed
    assert f"{rid} single-worker: cancelled" in proc.stdout and " run " in proc.stdout
    proc = await cli("workers")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:3] == ["WORKER", "INSTANCE", "STATE"]
    assert any(line.split()[0] == "flaky" and " live " in line for line in lines[1:])

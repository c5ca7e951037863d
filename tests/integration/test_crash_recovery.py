"""Crash safety on the real broker: SIGKILL mid-run, faust #606, RocksDB loss."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
import uuid

import pytest
import redis.asyncio as aioredis

from enginedge_streams.records import Status
from tests.reliability.harness import record
from tests.support.stack import REDIS_URL
from tests.support.workers import http_get

pytestmark = [pytest.mark.timeout(600), pytest.mark.slow]

LEDGER_ENV = {
    "WORKER_PLUGINS": "ledger=tests.support.ledger_worker",
    "BROKER_SESSION_TIMEOUT": "6",
    "BROKER_HEARTBEAT_INTERVAL": "1",
    "BROKER_COMMIT_INTERVAL": "1.0",
    "REDRIVE_INTERVAL_SECONDS": "1",
    "LOG_LEVEL": "warning",
}


async def _send_all(bus, commands):
    await bus.start()
    producer = bus.producer
    topic = bus.topics("ledger").requests
    futures = [
        await producer.send(topic, key=c.command_id.encode(), value=c.model_dump_json().encode())
        for c in commands
    ]
    metadata = await asyncio.gather(*futures)
    return {c.command_id: m.partition for c, m in zip(commands, metadata, strict=True)}


def _diagnose(missing, partitions, worker):
    """A short account of lost commands: where they were and what the worker said."""
    by_partition: dict[int, int] = {}
    for cid in missing:
        by_partition[partitions[cid]] = by_partition.get(partitions[cid], 0) + 1
    status = http_get(f"{worker.url}/commands/{missing[0]}")[1][:400] if missing else b""
    return (
        f"{len(missing)} commands lost; missing per partition {by_partition}; "
        f"status of {missing[0] if missing else None}: {status!r}\n"
        f"worker log tail:\n{worker.tail(60)}"
    )


async def _wait_all(listener, ids, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        missing = [i for i in ids if i not in listener.seen]
        if not missing:
            return []
        await asyncio.sleep(0.5)
    return [i for i in ids if i not in listener.seen]


async def _ledger(run):
    r = aioredis.Redis.from_url(REDIS_URL)
    try:
        executions = {
            k.decode(): int(v) for k, v in (await r.hgetall(f"ledger:{run}:executions")).items()
        }
        applied = {k.decode() for k in await r.hkeys(f"ledger:{run}:applied")}
        return executions, applied
    finally:
        await r.aclose()


async def test_sigkill_mid_run_loses_nothing_and_applies_each_effect_once(
    worker_factory, bus, tmp_path
):
    n = 1200
    run = uuid.uuid4().hex
    worker = worker_factory(
        "ledger", env={**LEDGER_ENV, "MAX_CONCURRENCY": "4"}, data_dir=tmp_path / "ledger"
    )
    listener = await bus.listen("ledger")
    commands = [bus.command("ledger.apply", {"run": run, "sleep_ms": 3}) for _ in range(n)]
    ids = [c.command_id for c in commands]
    partitions = await _send_all(bus, commands)
    while len([i for i in ids if i in listener.seen]) < n // 4:
        await asyncio.sleep(0.05)
    done_before_kill = len([i for i in ids if i in listener.seen])
    worker.kill()  # SIGKILL by PID, mid-stream
    assert done_before_kill < n
    worker.start()  # same RocksDB directory, same group
    missing = await _wait_all(listener, ids, 120)
    assert not missing, _diagnose(missing, partitions, worker)
    assert all(listener.seen[i].status is Status.COMPLETED for i in ids)
    executions, applied = await _ledger(run)
    assert applied == set(ids)  # each effect applied exactly once
    reexecuted = sum(v - 1 for v in executions.values() if v > 1)
    duplicates = sum(c - 1 for i, c in listener.counts.items() if i in set(ids))
    print(
        f"\ncrash test: n={n} done_before_kill={done_before_kill} re-executed={reexecuted} "
        f"duplicate_results={duplicates}"
    )
    # Only commands in flight at the kill may run again: at most MAX_CONCURRENCY of them.
    assert reexecuted <= 4
    assert set(executions) == set(ids)


async def test_faust_606_slow_head_is_not_lost(worker_factory, bus, tmp_path):
    """MAX_CONCURRENCY=2, one partition: a slow command at the head, fast ones behind it.

    faust can commit past the in-flight slow one (faust-streaming #606); after a
    SIGKILL Kafka would not redeliver it. The RUNNING record + re-driver must run it.
    """
    run = uuid.uuid4().hex
    env = {**LEDGER_ENV, "MAX_CONCURRENCY": "2", "TOPIC_PARTITIONS": "1"}
    bus.partitions = 1
    worker = worker_factory("ledger", env=env, data_dir=tmp_path / "ledger606")
    listener = await bus.listen("ledger")
    slow = bus.command("ledger.apply", {"run": run, "sleep_ms": 30_000})
    fast = [bus.command("ledger.apply", {"run": run}) for _ in range(40)]
    await _send_all(bus, [slow, *fast])
    assert await _wait_all(listener, [c.command_id for c in fast], 60) == []
    await asyncio.sleep(3)  # let a commit happen while the slow head is in flight
    status, body = http_get(f"{worker.url}/commands/{slow.command_id}")
    assert status == 200 and json.loads(body)["status"] == "RUNNING"
    worker.kill()
    worker.start()
    assert await _wait_all(listener, [slow.command_id], 120) == [], "the slow head was lost"
    assert listener.seen[slow.command_id].status is Status.COMPLETED
    executions, applied = await _ledger(run)
    assert slow.command_id in applied and executions[slow.command_id] == 1
    metrics = http_get(f"{worker.url}/metrics")[1].decode()
    redriven = [l for l in metrics.splitlines() if l.startswith("worker_redriven_commands_total")]
    lost = await _wait_all(listener, [c.command_id for c in [slow, *fast]], 5)
    record(
        "10 faust #606: MAX_CONCURRENCY=2, slow head, fast ones behind, SIGKILL",
        {
            "commands": 1 + len(fast),
            "lost": len(lost),
            "slow_head_executions": executions[slow.command_id],
            "effects_applied_twice": sum(1 for v in executions.values() if v > 1),
            "redriven": redriven,
        },
    )
    assert lost == []


async def test_wiped_rocksdb_is_rebuilt_from_the_changelog(worker_factory, bus, tmp_path):
    data = tmp_path / "wipe"
    worker = worker_factory("ledger", env=LEDGER_ENV, data_dir=data)
    run = uuid.uuid4().hex
    results = await asyncio.gather(
        *[bus.call("ledger", "ledger.apply", {"run": run}, timeout=60) for _ in range(30)]
    )
    failed = await bus.call("ledger", "ledger.apply", {"run": ""}, timeout=60)
    ids = [r.command_id for r in results] + [failed.command_id]
    before = {i: json.loads(http_get(f"{worker.url}/commands/{i}")[1]) for i in ids}
    assert before[failed.command_id]["status"] == "FAILED"
    worker.stop()
    shutil.rmtree(data)
    assert not data.exists()
    worker.start()
    after = {i: json.loads(http_get(f"{worker.url}/commands/{i}")[1]) for i in ids}
    assert after == before
    # And the rebuilt table still de-duplicates: re-sending an id re-publishes, not re-runs.
    again = await bus.call_command(
        "ledger", bus.command("ledger.apply", {"run": run}, command_id=ids[0]), timeout=60
    )
    executions, _ = await _ledger(run)
    assert again.status is Status.COMPLETED and executions[ids[0]] == 1

"""Fault-injection harness: a private broker/Redis per scenario, ledger workers, the oracle.

Every process is signalled by its own PID. The shared stack is never touched:
each scenario that restarts or pauses a service gets its own instance on free
loopback ports (the broker reuses the stack's Kafka jars).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from enginedge_streams.records import Command, Result, Status
from enginedge_streams.stack.base import stack_dir
from enginedge_streams.stack.kafka import KafkaService
from enginedge_streams.stack.postgres import PostgresService
from enginedge_streams.stack.redis import RedisService
from enginedge_streams.topics import WorkerTopics
from tests.support.workers import WorkerProcess, free_port

#: `RELIABILITY_SCALE=full` (make reliability) runs the issue's sizes; default is scaled down.
FULL = os.environ.get("RELIABILITY_SCALE", "quick") == "full"
RESULTS_FILE = Path(os.environ.get("RELIABILITY_RESULTS", "bench/results/reliability.jsonl"))

FAST_GROUP = {
    "BROKER_SESSION_TIMEOUT": "6",
    "BROKER_HEARTBEAT_INTERVAL": "1",
    "BROKER_COMMIT_INTERVAL": "1.0",
    "REDRIVE_INTERVAL_SECONDS": "1",
    "LOG_LEVEL": "warning",
    "WORKER_PLUGINS": "ledger=tests.support.ledger_worker",
}


def private_kafka(tmp: Path) -> KafkaService:
    shared_libs = stack_dir() / "kafka" / "libs"
    return KafkaService(tmp, port=free_port(), controller_port=free_port(), libs=shared_libs)


def private_redis(tmp: Path, *, durable: bool = False) -> RedisService:
    return RedisService(tmp, port=free_port(), durable=durable)


def private_postgres(tmp: Path) -> PostgresService:
    return PostgresService(tmp, port=free_port())


#: Every worker process a scenario creates; stopped after each test (see conftest).
STARTED: list[WorkerProcess] = []


def track(worker: WorkerProcess) -> WorkerProcess:
    STARTED.append(worker)
    return worker


def stop_all() -> None:
    while STARTED:
        STARTED.pop().stop(timeout=15)


def ledger_worker(
    tmp: Path, prefix: str, kafka: str, redis_url: str, n: int = 0, **env: str
) -> WorkerProcess:
    return track(
        WorkerProcess(
            worker_type="ledger",
            prefix=prefix,
            data_dir=tmp / f"data-{n}",
            log_path=tmp / f"ledger-{n}.log",
            env={**FAST_GROUP, "KAFKA_BROKERS": kafka, "REDIS_URL": redis_url, **env},
        )
    )


@dataclass
class Oracle:
    """Counts lost, executed-twice and duplicated results for a set of command ids."""

    kafka: str
    redis_url: str
    prefix: str
    worker_type: str = "ledger"
    run: str = field(default_factory=lambda: uuid.uuid4().hex)
    ids: list[str] = field(default_factory=list)
    effects: dict[str, int] = field(default_factory=dict)

    @property
    def topics(self) -> WorkerTopics:
        return WorkerTopics(self.worker_type, self.prefix)

    def commands(self, n: int, **payload: Any) -> list[Command]:
        cmds = [
            Command(command_type="ledger.apply", payload={"run": self.run, **payload})
            for _ in range(n)
        ]
        self.ids.extend(c.command_id for c in cmds)
        return cmds

    async def send(self, commands: list[Command | tuple[bytes | None, bytes]]) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.kafka, acks="all", linger_ms=5, enable_idempotence=True
        )
        await producer.start()
        try:
            futures = []
            for c in commands:
                if isinstance(c, Command):
                    key, value = c.command_id.encode(), c.model_dump_json().encode()
                else:
                    key, value = c
                futures.append(await producer.send(self.topics.requests, key=key, value=value))
            await asyncio.gather(*futures)
        finally:
            await producer.stop()

    async def drain(
        self, timeout: float = 60.0, want: set[str] | None = None
    ) -> dict[str, list[Result]]:
        """Read the whole results topic with a fresh consumer."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.kafka,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        seen: dict[str, list[Result]] = {}
        try:
            parts = consumer.partitions_for_topic(self.topics.results) or set()
            if not parts:
                await consumer.topics()
                parts = set(range(4))
            tps = [TopicPartition(self.topics.results, p) for p in sorted(parts)]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            end = await consumer.end_offsets(tps)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                batch = await consumer.getmany(timeout_ms=500)
                for msgs in batch.values():
                    for m in msgs:
                        r = Result.model_validate_json(m.value)
                        seen.setdefault(r.command_id, []).append(r)
                done = all([await consumer.position(tp) >= end[tp] for tp in tps])
                if done and (want is None or want <= set(seen)):
                    break
                if done:
                    end = await consumer.end_offsets(tps)
        finally:
            await consumer.stop()
        return seen

    async def wait_complete(self, timeout: float) -> dict[str, list[Result]]:
        deadline = time.monotonic() + timeout
        want = set(self.ids)
        seen: dict[str, list[Result]] = {}
        while time.monotonic() < deadline:
            try:
                seen = await self.drain(
                    timeout=min(30.0, max(1.0, deadline - time.monotonic())), want=want
                )
            except KafkaError:  # the (private) broker is still coming back
                await asyncio.sleep(1)
                continue
            if want <= {i for i, rs in seen.items() if any(r.status.terminal for r in rs)}:
                return seen
            await asyncio.sleep(1)
        return seen

    async def ledger(self) -> tuple[dict[str, int], set[str]]:
        r = aioredis.Redis.from_url(self.redis_url)
        try:
            executions = {
                k.decode(): int(v)
                for k, v in (await r.hgetall(f"ledger:{self.run}:executions")).items()
            }
            applied = {k.decode() for k in await r.hkeys(f"ledger:{self.run}:applied")}
            self.effects = {
                k.decode(): int(v)
                for k, v in (await r.hgetall(f"ledger:{self.run}:effects")).items()
            }
            return executions, applied
        finally:
            await r.aclose()

    def counts(self, seen: dict[str, list[Result]], ids: list[str] | None = None) -> dict[str, Any]:
        """What the results topic alone says: lost, completed, executed twice, duplicates."""
        ids = ids if ids is not None else self.ids
        terminal = {i for i in ids if any(r.status.terminal for r in seen.get(i, []))}
        completed = {i for i in ids if any(r.status is Status.COMPLETED for r in seen.get(i, []))}
        return {
            "commands": len(ids),
            "lost": len(set(ids) - terminal),
            "completed": len(completed),
            # the design's "executed twice": a second run after a terminal result had been
            # recorded and published (two terminal results from distinct runs)
            "executed_twice": sum(
                1
                for i in ids
                if len({r.started_at for r in seen.get(i, []) if r.status.terminal}) > 1
            ),
            "duplicate_results": sum(
                len(seen.get(i, [])) - 1 for i in ids if len(seen.get(i, [])) > 1
            ),
        }

    async def verdict(
        self, seen: dict[str, list[Result]], ids: list[str] | None = None
    ) -> dict[str, Any]:
        """``counts`` plus the ledger worker's side-effect figures."""
        ids = ids if ids is not None else self.ids
        executions, applied = await self.ledger()
        completed = {i for i in ids if any(r.status is Status.COMPLETED for r in seen.get(i, []))}
        return {
            **self.counts(seen, ids),
            # a re-run of a command killed mid-run ("a worker killed mid-command re-runs
            # it") that had already reached its effect: a non-idempotent write would have
            # been applied twice; the effect keyed by command id (HSETNX) never is
            "effect_reached_twice": sum(
                1 for k, v in self.effects.items() if v > 1 and k in set(ids)
            ),
            "handler_reexecutions": sum(
                v - 1 for k, v in executions.items() if v > 1 and k in set(ids)
            ),
            "effects_missing": len(completed - applied),
        }


def record(scenario: str, figures: dict[str, Any]) -> None:
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS_FILE.open("a") as f:
        f.write(
            json.dumps(
                {
                    "scenario": scenario,
                    "scale": "full" if FULL else "quick",
                    "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    **figures,
                }
            )
            + "\n"
        )
    print(f"\n[{scenario}] {figures}")


def pause(pid: int) -> None:
    os.kill(pid, signal.SIGSTOP)


def resume(pid: int) -> None:
    os.kill(pid, signal.SIGCONT)

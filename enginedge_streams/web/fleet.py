"""The deployment's workers, as the monitoring page shows them, from `worker.status`.

:class:`FleetState` keeps the instances seen on the heartbeat topic. The
bookkeeping is the orchestrator's :class:`WorkerRegistry` (latest beat per
instance; *live* until 3 of the instance's own heartbeat intervals pass
without a beat, *stopped* after it announced ``stopping``), so the page and
the orchestrator agree on who is alive; this class adds a size bound and the
page's words (healthy / stale / stopped, or unknown while Kafka is unreachable).

:class:`FleetWatcher` feeds it from a group-less consumer (``group_id=None``:
no consumer group joined, no offsets committed) that starts at the last
``history`` records of each of its partitions, in a background task that never
delays the worker's startup and is cancelled when the worker stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from enginedge_streams.heartbeat import Heartbeat
from enginedge_streams.records import utcnow
from enginedge_streams.tasks import cancel_and_wait
from enginedge_streams.worker_registry import InstanceState, WorkerRegistry

log = logging.getLogger("enginedge.fleet")

MAX_INSTANCES = 500
STALE_AFTER_INTERVALS = 3.0
FORGET_AFTER_S = 3600.0
HISTORY_PER_PARTITION = 200
HEALTH: dict[InstanceState, str] = {"live": "healthy", "missing": "stale", "stopped": "stopped"}


class FleetState:
    """Worker instances from their heartbeats (pure Python, bounded)."""

    def __init__(
        self,
        *,
        max_instances: int = MAX_INSTANCES,
        stale_after_intervals: float = STALE_AFTER_INTERVALS,
        forget_after_s: float = FORGET_AFTER_S,
    ) -> None:
        self.registry = WorkerRegistry(
            missing_after_intervals=stale_after_intervals, forget_after_s=forget_after_s
        )
        self.max_instances = max_instances
        self.connected = False
        self.detail = "not connected to Kafka yet"

    def observe(self, beat: Heartbeat, now: datetime) -> bool:
        """Record a heartbeat; False when it is older than the one we have (or too old)."""
        recorded = self.registry.observe(beat, now) is not None
        for instance_id in self.registry.expired(now):
            self.registry.forget(instance_id)
        instances = self.registry.instances
        if len(instances) > self.max_instances:
            by_age = sorted(instances.values(), key=lambda r: r.beat.sent_at)
            for record in by_age[: len(instances) - self.max_instances]:
                self.registry.forget(record.beat.instance_id)
        return recorded

    def set_connected(self) -> None:
        self.connected, self.detail = True, "following the heartbeat topic"

    def set_disconnected(self, detail: str) -> None:
        self.connected, self.detail = False, detail

    def view(self, now: datetime) -> dict[str, Any]:
        """``status`` ok or unknown; each worker's ``health`` is unknown while disconnected."""
        workers = self.registry.view(now)
        for row in workers:
            row["health"] = HEALTH[row["state"]] if self.connected else "unknown"
        return {
            "status": "ok" if self.connected else "unknown",
            "detail": self.detail,
            "staleAfterIntervals": self.registry.missing_after,
            "workers": workers,
        }


def heartbeat_consumer(bootstrap_servers: list[str], client_id: str) -> AIOKafkaConsumer:
    """A consumer that joins no group and commits nothing, with small fetch buffers."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        group_id=None,
        enable_auto_commit=False,
        max_partition_fetch_bytes=256 * 1024,
        fetch_max_bytes=1024 * 1024,
        request_timeout_ms=15_000,
    )


class FleetWatcher:
    """Follows the heartbeat topic into a :class:`FleetState`; reconnects after errors."""

    def __init__(
        self,
        state: FleetState,
        *,
        topic: str,
        partitions: int,
        consumer_factory: Callable[[], Any],
        history: int = HISTORY_PER_PARTITION,
        probe_every_s: float = 10.0,
        retry_every_s: float = 5.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.state = state
        self.topic = topic
        self.partitions = partitions
        self.consumer_factory = consumer_factory
        self.history = history
        self.probe_every_s = probe_every_s
        self.retry_every_s = retry_every_s
        self.clock = clock
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="fleet-watcher")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        self.state.set_disconnected("stopped")

    async def run(self) -> None:
        while True:
            consumer = self.consumer_factory()
            try:
                await self._follow(consumer)
            except Exception as exc:  # broker down, topic missing...: shown, then retried
                self.state.set_disconnected(f"{type(exc).__name__}: {exc}")
                log.warning("heartbeat topic %s not followed: %s", self.topic, exc)
            finally:
                with contextlib.suppress(Exception):
                    await consumer.stop()
            await asyncio.sleep(self.retry_every_s)

    async def _follow(self, consumer: Any) -> None:
        await consumer.start()
        # The worker created the topic with this many partitions (or refused to start).
        tps = [TopicPartition(self.topic, p) for p in range(self.partitions)]
        consumer.assign(tps)
        starts = await consumer.beginning_offsets(tps)
        ends = await consumer.end_offsets(tps)
        for tp in tps:
            consumer.seek(tp, max(starts[tp], ends[tp] - self.history))
        self.state.set_connected()
        next_probe = time.monotonic() + self.probe_every_s
        while True:
            batches = await consumer.getmany(timeout_ms=1000, max_records=500)
            for records in batches.values():
                for record in records:
                    self._observe(record.value)
            if time.monotonic() >= next_probe:  # the fetcher retries silently: ask the broker
                await asyncio.wait_for(consumer.end_offsets(tps), timeout=self.probe_every_s)
                self.state.set_connected()
                next_probe = time.monotonic() + self.probe_every_s

    def _observe(self, value: bytes | None) -> None:
        try:
            beat = Heartbeat.model_validate_json(value or b"")
        except (ValidationError, ValueError):
            log.debug("ignoring an undecodable heartbeat on %s", self.topic)
            return
        self.state.observe(beat, self.clock())

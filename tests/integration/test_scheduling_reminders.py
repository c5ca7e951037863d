"""Reminders on the real broker: emitted once, at the right time, across a SIGKILL restart and
a wiped RocksDB directory (the fired records come back from the table's changelog)."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaConsumer

from enginedge_streams.records import Status
from tests.support.stack import KAFKA

pytestmark = pytest.mark.timeout(300)
ENV = {
    "REMINDER_INTERVAL_SECONDS": "0.5",
    "BROKER_COMMIT_INTERVAL": "1.0",
    "LOG_LEVEL": "warning",
    "BROKER_SESSION_TIMEOUT": "6",
    "BROKER_HEARTBEAT_INTERVAL": "1",
}


class EventsTail:
    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.records: list[tuple[dict, float]] = []
        self.consumer: AIOKafkaConsumer | None = None
        self.task: asyncio.Task | None = None

    async def start(self) -> None:
        self.consumer = AIOKafkaConsumer(
            self.topic,
            bootstrap_servers=KAFKA,
            auto_offset_reset="earliest",
            group_id=None,
            fetch_max_wait_ms=100,
            metadata_max_age_ms=1000,
        )
        await self.consumer.start()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for msg in self.consumer:
            self.records.append((json.loads(msg.value), time.time()))

    async def stop(self) -> None:
        self.task.cancel()
        await self.consumer.stop()

    def keys(self) -> Counter:
        return Counter(r["reminder_id"] for r, _ in self.records)

    async def wait_for(self, n: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.records) < n and time.monotonic() < deadline:
            await asyncio.sleep(0.2)


async def test_reminder_emitted_once_on_time_across_kill_and_wipe(
    worker_factory, bus, prefix, tmp_path
):
    data = tmp_path / "sched"
    worker = worker_factory("scheduling", env=ENV, data_dir=data)
    tail = EventsTail(f"{prefix}worker.scheduling.events")
    await tail.start()
    try:
        r = await bus.call(
            "scheduling",
            "calendar.create",
            {"calendar_id": "c", "name": "c", "timezone": "UTC"},
            timeout=60,
        )
        assert r.status is Status.COMPLETED
        now = datetime.now(UTC).replace(microsecond=0)
        # "during": due while the worker is down; "after": due once it is back.
        due_during, due_after = now + timedelta(seconds=6), now + timedelta(seconds=40)
        for eid, due in (("during", due_during), ("after", due_after)):
            start = due + timedelta(minutes=1)
            r = await bus.call(
                "scheduling",
                "event.create",
                {
                    "calendar_id": "c",
                    "event_id": eid,
                    "title": eid,
                    "start": start.isoformat(),
                    "end": (start + timedelta(minutes=30)).isoformat(),
                    "reminders": [1],
                },
                timeout=60,
            )
            assert r.status is Status.COMPLETED, r.error
        worker.kill()  # SIGKILL before any reminder is due
        await asyncio.sleep(max(0.0, (due_during - datetime.now(UTC)).total_seconds()) + 1)
        assert tail.records == []
        worker.start()  # same RocksDB directory, same group
        await tail.wait_for(1, 60)
        during_key = (
            "c/during/" + (due_during + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ") + "/1"
        )
        assert tail.keys()[during_key] == 1
        record, seen_at = tail.records[0]
        assert record["type"] == "reminder.due" and record["event_id"] == "during"
        assert (
            datetime.fromisoformat(record["emitted_at"]) >= due_during
        )  # caught up after the restart
        assert datetime.now(UTC) < due_after, "the restart took too long for the on-time check"
        await tail.wait_for(2, 60)
        assert len(tail.records) == 2
        record, seen_at = tail.records[1]
        assert record["event_id"] == "after" and record["late"] is False
        emitted = datetime.fromisoformat(record["emitted_at"])
        assert due_after <= emitted <= due_after + timedelta(seconds=5), (emitted, due_after)
        assert (
            seen_at - due_after.timestamp() < 6
        )  # visible on the topic within seconds of the due time
        await asyncio.sleep(4)  # the timer keeps ticking: nothing is sent twice
        assert sorted(tail.keys().values()) == [1, 1]
        # Wipe the local state: the fired records come back from the changelog, nothing re-fires.
        worker.stop()
        shutil.rmtree(data)
        worker.start()
        got = await bus.call(
            "scheduling", "event.get", {"calendar_id": "c", "event_id": "after"}, timeout=60
        )
        assert got.status is Status.COMPLETED and got.result["event"]["reminders"] == [1]
        listed = await bus.call(
            "scheduling",
            "event.list",
            {
                "calendar_id": "c",
                "start": now.isoformat(),
                "end": (now + timedelta(hours=1)).isoformat(),
            },
            timeout=60,
        )
        assert [o["event_id"] for o in listed.result["occurrences"]] == [
            "during",
            "after",
        ]  # index rebuilt
        await asyncio.sleep(5)
        assert sorted(tail.keys().values()) == [1, 1], tail.keys()
    finally:
        await tail.stop()

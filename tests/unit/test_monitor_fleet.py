"""The monitoring page's Workers panel: fleet state from heartbeats, and its watcher (fakes)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from aiokafka import TopicPartition

from enginedge_streams.heartbeat import Heartbeat
from enginedge_streams.web.fleet import FleetState, FleetWatcher

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
TOPIC = "t.worker.status"


def beat(instance="a-1", *, at=T0, interval=10.0, status="idle", worker_type="spacy"):
    return Heartbeat(
        worker_type=worker_type,
        instance_id=instance,
        version="1.0",
        status=status,
        interval_seconds=interval,
        host="node-1",
        port=8001,
        sent_at=at,
    )


def rows(state, now):
    return {w["instance_id"]: w for w in state.view(now)["workers"]}


def connected_state(**kwargs):
    state = FleetState(**kwargs)
    state.set_connected()
    return state


def test_healthy_until_three_of_its_intervals_pass_then_stale_then_healthy_again():
    state = connected_state()
    assert state.observe(beat(interval=10.0), T0)
    row = rows(state, T0 + timedelta(seconds=30))["a-1"]
    assert (row["health"], row["status"], row["worker_type"]) == ("healthy", "idle", "spacy")
    assert (row["host"], row["port"], row["seconds_since_heartbeat"]) == ("node-1", 8001, 30.0)
    assert rows(state, T0 + timedelta(seconds=30.5))["a-1"]["health"] == "stale"
    later = T0 + timedelta(seconds=40)
    state.observe(beat(at=later, status="busy"), later)
    row = rows(state, later)["a-1"]
    assert (row["health"], row["status"]) == ("healthy", "busy")


def test_each_instance_goes_stale_after_its_own_interval():
    state = connected_state()
    state.observe(beat("fast", interval=1.0), T0)
    state.observe(beat("slow", interval=30.0, worker_type="scheduling"), T0)
    view = rows(state, T0 + timedelta(seconds=10))
    assert (view["fast"]["health"], view["slow"]["health"]) == ("stale", "healthy")


def test_stopping_instance_is_stopped_and_an_older_beat_does_not_revive_it():
    state = connected_state()
    state.observe(beat(at=T0 + timedelta(seconds=5), status="stopping"), T0)
    assert not state.observe(beat(at=T0), T0)  # replayed history, older than what we have
    assert rows(state, T0)["a-1"]["health"] == "stopped"


def test_size_is_bounded_keeping_the_most_recent_instances():
    state = connected_state(max_instances=3)
    for i in range(10):
        state.observe(beat(f"i-{i}", at=T0 + timedelta(seconds=i)), T0 + timedelta(seconds=i))
    assert set(state.registry.instances) == {"i-7", "i-8", "i-9"}


def test_long_gone_instances_are_forgotten():
    state = connected_state(forget_after_s=60)
    state.observe(beat("old"), T0)
    later = T0 + timedelta(seconds=61)
    state.observe(beat("new", at=later), later)
    assert set(rows(state, later)) == {"new"}
    assert not state.observe(beat("ancient", at=T0 - timedelta(hours=1)), later)


def test_unknown_while_disconnected():
    state = FleetState()
    assert state.view(T0) == {
        "status": "unknown",
        "detail": "not connected to Kafka yet",
        "staleAfterIntervals": 3.0,
        "workers": [],
    }
    state.set_connected()
    state.observe(beat(), T0)
    state.set_disconnected("KafkaConnectionError: broker down")
    view = state.view(T0)
    assert (view["status"], view["detail"]) == ("unknown", "KafkaConnectionError: broker down")
    assert [w["health"] for w in view["workers"]] == ["unknown"]


class FakeConsumer:
    """The part of AIOKafkaConsumer the watcher uses: 2 partitions of 500 records each."""

    def __init__(self, records=None, *, fail_start=False):
        self.records = records or {}
        self.fail_start = fail_start
        self.positions: dict[TopicPartition, int] = {}
        self.stopped = False

    async def start(self):
        if self.fail_start:
            raise ConnectionError("Unable to bootstrap from 127.0.0.1:1")

    async def stop(self):
        self.stopped = True

    def assign(self, tps):
        self.positions = dict.fromkeys(tps, 0)

    async def beginning_offsets(self, tps):
        return dict.fromkeys(tps, 0)

    async def end_offsets(self, tps):
        return dict.fromkeys(tps, 500)

    def seek(self, tp, offset):
        self.positions[tp] = offset

    async def getmany(self, timeout_ms, max_records):
        out = {}
        for tp, pos in self.positions.items():
            batch = self.records.get(tp.partition, [])[pos : pos + max_records]
            if batch:
                out[tp] = [SimpleNamespace(value=v) for v in batch]
                self.positions[tp] = pos + len(batch)
        if not out:
            await asyncio.sleep(timeout_ms / 1000)
        return out


@pytest.mark.timeout(10)
async def test_watcher_reads_only_recent_history_and_stops_cleanly():
    records = {
        p: [beat(f"p{p}-{i}", at=T0).model_dump_json().encode() for i in range(500)] for p in (0, 1)
    }
    records[1][-1] = b"{not a heartbeat"
    consumer = FakeConsumer(records)
    state = FleetState()
    watcher = FleetWatcher(
        state,
        topic=TOPIC,
        partitions=2,
        consumer_factory=lambda: consumer,
        history=5,
        clock=lambda: T0,
    )
    watcher.start()
    for _ in range(100):
        if len(state.registry.instances) == 9:
            break
        await asyncio.sleep(0.01)
    assert set(state.registry.instances) == {
        *(f"p0-{i}" for i in range(495, 500)),
        *(f"p1-{i}" for i in range(495, 499)),
    }
    assert state.view(T0)["status"] == "ok"
    await watcher.stop()
    assert consumer.stopped and state.view(T0)["status"] == "unknown"


@pytest.mark.timeout(10)
async def test_watcher_with_kafka_unreachable_shows_unknown_and_retries():
    consumers = []

    def factory():
        consumers.append(FakeConsumer(fail_start=True))
        return consumers[-1]

    state = FleetState()
    watcher = FleetWatcher(
        state, topic=TOPIC, partitions=2, consumer_factory=factory, retry_every_s=0.01
    )
    watcher.start()
    while len(consumers) < 3:
        await asyncio.sleep(0.01)
    view = state.view(T0)
    assert view["status"] == "unknown" and "Unable to bootstrap" in view["detail"]
    await watcher.stop()
    assert all(c.stopped for c in consumers)

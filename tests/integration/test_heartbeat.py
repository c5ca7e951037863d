"""Every worker process announces itself on worker.status (start, interval, stop)."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer

from enginedge_streams.heartbeat import Heartbeat, status_topic
from tests.support.stack import KAFKA

pytestmark = pytest.mark.timeout(180)


async def test_heartbeats_on_start_interval_and_stop(worker_factory, prefix):
    worker = worker_factory("spacy", env={"HEALTH_CHECK_INTERVAL": "1"})
    consumer = AIOKafkaConsumer(
        status_topic(prefix), bootstrap_servers=KAFKA, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        beats: list[Heartbeat] = []

        async def collect(until):
            while not until(beats):
                msg = await asyncio.wait_for(consumer.getone(), 30)
                beats.append(Heartbeat.model_validate_json(msg.value))

        await collect(lambda b: sum(x.status in ("idle", "busy") for x in b) >= 3)
        assert beats[0].status == "starting"
        assert {b.worker_type for b in beats} == {"spacy"}
        assert all(b.pid == worker.pid and b.port == worker.port for b in beats)
        assert any(b.assigned_partitions for b in beats)
        worker.stop()
        await collect(lambda b: b[-1].status == "stopping")
    finally:
        await consumer.stop()

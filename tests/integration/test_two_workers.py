"""Two processes of one worker type share the partitions; status is routed to the owner."""

from __future__ import annotations

import asyncio
import json

import pytest

from enginedge_streams.records import Status
from tests.support.workers import http_get

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

ENV = {"BROKER_SESSION_TIMEOUT": "10", "BROKER_HEARTBEAT_INTERVAL": "1"}


async def test_partitions_split_and_status_routed_to_partition_owner(worker_factory, bus):
    a = worker_factory("spacy", env=ENV)
    b = worker_factory("spacy", env=ENV, start=False)
    b.start(wait=False)
    b.wait_ready(timeout=120)
    # Wait for the rebalance to settle: each process owns part of the 4 partitions.
    for _ in range(120):
        pa = json.loads(http_get(f"{a.url}/ready")[1])["checks"]["kafka"]["assigned_partitions"]
        pb = json.loads(http_get(f"{b.url}/ready")[1])["checks"]["kafka"]["assigned_partitions"]
        if pa and pb and pa + pb == 4:
            break
        await asyncio.sleep(0.5)
    assert pa and pb and pa + pb == 4
    results = await asyncio.gather(
        *[bus.call("spacy", "system.ping", {}, timeout=120) for _ in range(40)]
    )
    assert all(r.status is Status.COMPLETED for r in results)
    served_by = {r.result["instance_id"] for r in results}
    assert len(served_by) == 2  # both processes did work
    for r in results[:10]:
        for worker in (a, b):
            status, body = http_get(f"{worker.url}/commands/{r.command_id}")
            assert status == 200, body
            assert json.loads(body)["status"] == "COMPLETED"

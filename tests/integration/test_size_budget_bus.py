"""The size budget and claim checks on the real Kafka, with the S3 adapter on a real
S3-protocol server (moto's, on 127.0.0.1): one scheduling worker for the module.

* a 1.5 MB ICS import goes by artifact reference and a 600-event export comes back
  by reference (the client and the worker are different processes: only the S3
  store is shared, as between replicas in a cluster);
* `enginedge submit --file ics=...` does the same from the command line;
* an over-limit command sent gzip-compressed by a plain Kafka producer is
  dead-lettered AND answered with a FAILED result for the id in its key, which
  `GET /commands/{id}` also finds;
* a duplicate delivered while its original runs gets the original's result on
  its own reply_to.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from enginedge_streams.adapters.s3_artifact_store import S3ArtifactStore
from enginedge_streams.claim_check import is_reference
from enginedge_streams.client import BusClient
from enginedge_streams.codec import decode_result
from enginedge_streams.records import Command, Status
from enginedge_streams.settings import MAX_COMMAND_BYTES, MAX_RESULT_BYTES
from tests.support.s3_server import ACCESS_KEY, SECRET_KEY, s3_env, s3_server
from tests.support.stack import KAFKA
from tests.support.workers import http_get

pytestmark = pytest.mark.timeout(240)
ROOT = Path(__file__).resolve().parents[2]
BUCKET = "claims"


@pytest.fixture(scope="module")
def s3_endpoint():
    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def worker(module_worker_factory, s3_endpoint):
    return module_worker_factory("scheduling", env=s3_env(s3_endpoint, BUCKET))


@pytest.fixture
async def client(stack, module_prefix, s3_endpoint):
    store = S3ArtifactStore(
        bucket=BUCKET,
        endpoint_url=s3_endpoint,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
    )
    bus = BusClient(
        [KAFKA], prefix=module_prefix, partitions=4, artifacts=store, owns_artifacts=True
    )
    await bus.start()
    yield bus
    await bus.stop()


def big_ics(events: int, description_chars: int) -> str:
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//enginedge tests//EN")
    cal.add("version", "2.0")
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    for i in range(events):
        ev = Event()
        ev.add("uid", f"evt-{i}@tests")
        ev.add("summary", f"Session {i}")
        ev.add("dtstart", start + timedelta(hours=i))
        ev.add("dtend", start + timedelta(hours=i, minutes=30))
        ev.add("description", f"{i} " + ("lorem ipsum dolor sit amet " * 200)[:description_chars])
        cal.add_component(ev)
    return cal.to_ical().decode()


async def test_big_ics_import_and_600_event_export_travel_by_reference(worker, client):
    cal = f"big-{uuid.uuid4().hex[:6]}"
    ok = await client.call("scheduling", "calendar.create", {"calendar_id": cal, "name": "Big"})
    assert ok.status is Status.COMPLETED, ok.error
    ics = big_ics(600, 2400)
    assert len(ics.encode()) > 1_500_000 > MAX_COMMAND_BYTES
    imported = await client.call(
        "scheduling", "calendar.import_ics", {"calendar_id": cal, "ics": ics}, timeout=120
    )
    assert imported.status is Status.COMPLETED, imported.error
    assert len(imported.result["imported"]) == 600

    listener = await client.listen("scheduling")
    exported = await client.call(
        "scheduling", "calendar.export_ics", {"calendar_id": cal}, timeout=120
    )
    assert exported.status is Status.COMPLETED, exported.error
    # What travelled on the bus was a reference; the client read the value back.
    on_the_bus = listener.seen[exported.command_id]
    assert is_reference(on_the_bus.result)
    assert on_the_bus.result["size"] > MAX_RESULT_BYTES
    assert exported.result["events"] == 600
    assert exported.result["ics"].count("BEGIN:VEVENT") == 600


async def test_cli_submit_sends_a_big_file_by_reference(
    worker, module_prefix, s3_endpoint, tmp_path
):
    cal = f"cli-{uuid.uuid4().hex[:6]}"
    ics_path = tmp_path / "big.ics"
    ics_path.write_text(big_ics(500, 2400))
    env = {
        **os.environ,
        **s3_env(s3_endpoint, BUCKET),
        "KAFKA_BROKERS": KAFKA,
        "TOPIC_PREFIX": module_prefix,
    }

    def submit(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "enginedge_streams.cli.main", "submit", "scheduling", *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
        )

    created = submit(
        "calendar.create", "--payload", json.dumps({"calendar_id": cal, "name": "C"}), "--wait"
    )
    assert created.returncode == 0, created.stderr
    out = submit(
        "calendar.import_ics",
        "--payload",
        json.dumps({"calendar_id": cal}),
        "--file",
        f"ics={ics_path}",
        "--wait",
        "--timeout",
        "150",
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert len(json.loads(out.stdout)["result"]["imported"]) == 500
    assert "Traceback" not in out.stderr


async def _first(consumer: AIOKafkaConsumer, predicate, timeout: float = 60.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        batch = await consumer.getmany(timeout_ms=500)
        for messages in batch.values():
            for m in messages:
                if predicate(m):
                    return m
    raise AssertionError("no matching record")


async def test_gzip_over_limit_command_from_a_plain_producer_gets_dlq_and_failed_result(
    worker, client, module_prefix
):
    cid = f"gz-{uuid.uuid4().hex[:10]}"
    command = Command(
        command_id=cid,
        command_type="calendar.import_ics",
        payload={"calendar_id": "nope", "ics": "BEGIN:VCALENDAR\n" * 100_000},  # 1.6 MB
    )
    raw = command.model_dump_json().encode()
    assert len(raw) > MAX_COMMAND_BYTES
    topics = client.topics("scheduling")
    listener = await client.listen("scheduling")
    dlq = AIOKafkaConsumer(bootstrap_servers=KAFKA, group_id=None, enable_auto_commit=False)
    await dlq.start()
    tps = [TopicPartition(topics.dlq, p) for p in range(4)]
    dlq.assign(tps)
    await dlq.seek_to_end(*tps)
    for tp in tps:
        await dlq.position(tp)
    producer = AIOKafkaProducer(
        bootstrap_servers=KAFKA, compression_type="gzip", max_request_size=8 * 1024 * 1024
    )
    await producer.start()
    try:
        await producer.send_and_wait(topics.requests, key=cid.encode(), value=raw)
        result = await listener.wait(cid, 60)
        assert result.status is Status.FAILED
        assert result.error.code == "MESSAGE_TOO_LARGE"
        assert f"MAX_COMMAND_BYTES={MAX_COMMAND_BYTES}" in result.error.message
        assert result.error.details["dead_lettered"] is True
        letter = await _first(dlq, lambda m: m.key == cid.encode())
        data = orjson.loads(letter.value)
        assert data["command_id"] == cid and data["code"] == "MESSAGE_TOO_LARGE"
        assert len(base64.b64decode(data["raw_base64"])) == 512 * 1024  # cut, and says so
        status, body = http_get(f"{worker.url}/commands/{cid}")
        assert status == 200, body
        view = json.loads(body)
        assert view["status"] == "FAILED" and view["result"]["error"]["code"] == "MESSAGE_TOO_LARGE"
    finally:
        await producer.stop()
        await dlq.stop()


async def test_in_flight_duplicate_gets_the_result_on_its_own_reply_to(
    worker, client, module_prefix
):
    reply_a, reply_b = f"{module_prefix}replies.a", f"{module_prefix}replies.b"
    await client.send_raw(reply_a, b"{}")  # create both reply topics (auto-create)
    await client.send_raw(reply_b, b"{}")
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(t, 0) for t in (reply_a, reply_b)]
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        for tp in tps:
            await consumer.position(tp)
        cmd = Command(
            command_type="system.ping",
            payload={"echo": "once", "delay_ms": 3000},
            reply_to=reply_a,
            timeout_ms=60_000,
        )
        await client.send("scheduling", cmd)
        await asyncio.sleep(1.0)  # the original is running now
        await client.send("scheduling", cmd.model_copy(update={"reply_to": reply_b}))
        got: dict[str, object] = {}
        deadline = asyncio.get_running_loop().time() + 60
        while len(got) < 2 and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for tp, messages in batch.items():
                for m in messages:
                    if m.key == cmd.command_id.encode():
                        got[tp.topic] = decode_result(m.value)
        assert set(got) == {reply_a, reply_b}
        a, b = got[reply_a], got[reply_b]
        assert a.status is Status.COMPLETED and a.result["echo"] == "once"
        assert a.finished_at == b.finished_at  # one execution, two answers
    finally:
        await consumer.stop()


@pytest.mark.skipif(shutil.which("kcat") is None, reason="kcat is installed by make setup")
async def test_kcat_gzip_over_limit_command_is_answered_and_status_finds_it(worker, client):
    cid = f"kcat-gz-{uuid.uuid4().hex[:10]}"
    line = json.dumps(
        {
            "command_id": cid,
            "command_type": "calendar.import_ics",
            "payload": {"calendar_id": "nope", "ics": "BEGIN:VEVENT " * 120_000},
        }
    )
    assert len(line) > MAX_COMMAND_BYTES
    listener = await client.listen("scheduling")
    subprocess.run(
        [
            "kcat",
            "-P",
            "-b",
            KAFKA,
            "-t",
            client.topics("scheduling").requests,
            "-K",
            "\t",
            "-z",
            "gzip",
            "-X",
            "message.max.bytes=4000000",
        ],
        input=f"{cid}\t{line}\n".encode(),
        check=True,
        timeout=60,
    )
    result = await listener.wait(cid, 60)
    assert result.status is Status.FAILED and result.error.code == "MESSAGE_TOO_LARGE"
    status = subprocess.run(
        [sys.executable, "-m", "enginedge_streams.cli.main", "status", cid, "--url", worker.url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert status.returncode == 0, status.stderr
    view = json.loads(status.stdout)
    assert view["status"] == "FAILED"
    assert view["result"]["error"]["code"] == "MESSAGE_TOO_LARGE"

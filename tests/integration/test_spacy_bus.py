"""The spaCy worker on the real Kafka and Redis, driven through the bus client."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import subprocess
import uuid

import orjson
import pytest
from aiokafka import AIOKafkaConsumer

from enginedge_streams.records import Status
from tests.support.stack import KAFKA
from tests.support.workers import http_get, http_post

pytestmark = pytest.mark.timeout(240)

API_TOKEN = "it-test-token-6d41c9"

CASES = [
    (
        "nlp.analyze",
        {"text": "Angela Merkel visited Paris in 2019."},
        lambda r: any(e["label"] == "PERSON" for e in r["entities"]),
    ),
    (
        "nlp.keywords",
        {"text": "Redis caches results. Redis is fast.", "top_k": 3},
        lambda r: r["keywords"][0]["keyword"] == "Redis",
    ),
    (
        "nlp.similarity",
        {"text_a": "cats and dogs", "text_b": "dogs and cats"},
        lambda r: r["similarity"] > 0.9,
    ),
    (
        "nlp.categorize_topic",
        {"topic": "new football season", "categories": ["sports", "cooking"]},
        lambda r: r["best"] == "sports",
    ),
    (
        "nlp.analyze_speech",
        {"transcript": "Um, I think it works.", "duration_seconds": 3},
        lambda r: r["filler_words"] == {"um": 1},
    ),
    ("system.ping", {"echo": "x"}, lambda r: r["pong"] and r["worker_type"] == "spacy"),
]


@pytest.fixture
def spacy_worker(worker_factory):
    return worker_factory(
        "spacy",
        env={
            "API_TOKEN": API_TOKEN,
            "MAX_CONCURRENCY": "4",
            "OPENAI_API_KEY": "sk-dummy-never-logged-123456",
        },
    )


async def test_every_command_type_completes_and_status_is_served(spacy_worker, bus):
    results = await asyncio.gather(
        *[bus.call("spacy", ctype, payload, timeout=60) for ctype, payload, _ in CASES]
    )
    for (ctype, _, check), result in zip(CASES, results):
        assert result.status is Status.COMPLETED, (ctype, result.error)
        assert check(result.result), (ctype, result.result)
        assert result.worker_type == "spacy" and result.command_type == ctype
        assert result.processing_ms is not None and result.attempts == 1
    status, body = http_get(f"{spacy_worker.url}/commands/{results[0].command_id}")
    view = json.loads(body)
    assert status == 200 and view["status"] == "COMPLETED"
    assert view["result"]["result"]["entities"]
    assert http_get(f"{spacy_worker.url}/commands/does-not-exist")[0] == 404


async def test_invalid_payload_fails_with_clear_code(spacy_worker, bus):
    result = await bus.call("spacy", "nlp.similarity", {"text_a": "x"}, timeout=60)
    assert result.status is Status.FAILED
    assert result.error.code == "INVALID_PAYLOAD"
    assert "text_b" in result.error.message


async def test_same_command_id_twice_is_executed_once(spacy_worker, bus):
    command = bus.command(
        "nlp.keywords", {"text": "Kafka Kafka Kafka"}, command_id=f"dup-{uuid.uuid4().hex}"
    )
    first = await bus.call_command("spacy", command, timeout=60)
    listener = await bus.listen("spacy")
    listener.seen.pop(command.command_id, None)
    second = await bus.call_command("spacy", command, timeout=60)
    assert first == second  # the stored result, re-published
    _, metrics = http_get(f"{spacy_worker.url}/metrics")
    text = metrics.decode()
    assert 'worker_duplicate_commands_total{worker_type="spacy"} 1.0' in text
    assert 'worker_commands_total{status="COMPLETED",worker_type="spacy"} 1.0' in text


async def test_undecodable_message_goes_to_dlq_and_agent_keeps_running(spacy_worker, bus, prefix):
    dlq = f"{prefix}worker.spacy.dlq"
    consumer = AIOKafkaConsumer(
        dlq, bootstrap_servers=KAFKA, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        await bus.send_raw(
            f"{prefix}worker.spacy.requests", b"\x00\x01 definitely not json", key=b"poison"
        )
        msg = await asyncio.wait_for(consumer.getone(), 60)
        letter = json.loads(msg.value)
        assert letter["code"] == "UNDECODABLE"
        assert base64.b64decode(letter["raw_base64"]) == b"\x00\x01 definitely not json"
        assert "not valid JSON" in letter["reason"]
    finally:
        await consumer.stop()
    ping = await bus.call("spacy", "system.ping", {}, timeout=60)
    assert ping.status is Status.COMPLETED


@pytest.mark.skipif(shutil.which("kcat") is None, reason="kcat is installed by make setup")
async def test_command_from_a_plain_kafka_client(spacy_worker, bus, prefix):
    listener = await bus.listen("spacy")
    command_id = f"kcat-{uuid.uuid4().hex}"
    line = json.dumps(
        {
            "command_id": command_id,
            "command_type": "nlp.analyze",
            "payload": {"text": "IBM hired Ada in Berlin."},
        }
    )
    subprocess.run(
        ["kcat", "-P", "-b", KAFKA, "-t", f"{prefix}worker.spacy.requests", "-K", "\t"],
        input=f"{command_id}\t{line}\n".encode(),
        check=True,
        timeout=30,
    )
    result = await listener.wait(command_id, 60)
    assert result.status is Status.COMPLETED
    assert {"IBM", "Berlin"} <= {e["text"] for e in result.result["entities"]}
    # An unkeyed message (no key at all) is re-keyed and still answered.
    command_id2 = f"kcat-nokey-{uuid.uuid4().hex}"
    line2 = json.dumps({"command_id": command_id2, "command_type": "system.ping", "payload": {}})
    subprocess.run(
        ["kcat", "-P", "-b", KAFKA, "-t", f"{prefix}worker.spacy.requests"],
        input=f"{line2}\n".encode(),
        check=True,
        timeout=30,
    )
    assert (await listener.wait(command_id2, 60)).status is Status.COMPLETED


async def test_metrics_pass_promtool_and_http_routes(spacy_worker, bus):
    await bus.call("spacy", "system.ping", {}, timeout=60)
    status, body = http_get(f"{spacy_worker.url}/metrics")
    assert status == 200
    for name in (
        "worker_commands_total",
        "worker_command_duration_seconds",
        "worker_memory_usage_bytes",
        "worker_cpu_usage_percent",
        "worker_consumer_lag",
        "faust_total_events_total",
        "faust_events_runtime_seconds_bucket",
    ):
        assert name in body.decode()
    if shutil.which("promtool"):
        check = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True)
        assert check.returncode == 0, check.stdout + check.stderr
    status, body = http_post(
        f"{spacy_worker.url}/analyze", b'{"text": "Google is in Mountain View."}'
    )
    assert status == 200 and any(e["text"] == "Google" for e in json.loads(body)["entities"])
    status, body = http_post(f"{spacy_worker.url}/similarity", b'{"text_a": "x"}')
    assert status == 400 and json.loads(body)["error"]["code"] == "INVALID_PAYLOAD"
    status, body = http_get(f"{spacy_worker.url}/ready")
    checks = json.loads(body)["checks"]
    assert status == 200 and checks["redis"]["ok"] and checks["model"]["ok"]
    assert http_get(f"{spacy_worker.url}/table/")[0] == 404  # Faust's data view is off


async def test_post_commands_requires_the_bearer_token(spacy_worker, bus):
    body = orjson.dumps({"command_type": "system.ping", "payload": {"echo": "http"}})
    assert http_post(f"{spacy_worker.url}/commands", body)[0] == 401
    assert (
        http_post(f"{spacy_worker.url}/commands", body, {"Authorization": "Bearer wrong"})[0] == 401
    )
    listener = await bus.listen("spacy")
    status, resp = http_post(
        f"{spacy_worker.url}/commands", body, {"Authorization": f"Bearer {API_TOKEN}"}
    )
    assert status == 202
    accepted = json.loads(resp)
    result = await listener.wait(accepted["command_id"], 60)
    assert result.status is Status.COMPLETED and result.result["echo"] == "http"
    # No secret value reaches the logs.
    spacy_worker.stop()
    log = "\n".join(spacy_worker.log_lines())
    assert API_TOKEN not in log and "sk-dummy-never-logged-123456" not in log
    json_lines = [json.loads(line) for line in spacy_worker.log_lines() if line.startswith("{")]
    assert json_lines and all(
        {"timestamp", "level", "workerType", "message"} <= set(d) for d in json_lines
    )
    completed = [d for d in json_lines if d.get("status") == "COMPLETED"]
    assert completed and all(d["commandId"] and "processingTime" in d for d in completed)

"""Hostile input against a live spaCy worker: over Kafka, over HTTP (schemathesis), limits.

One worker process for the module (spaCy is the lightest), with ``API_TOKEN`` set
so that authorised calls reach validation.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from jsonschema import Draft202012Validator
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.hostile.fuzzing import garbage
from tests.support.secrets_scan import GLOBAL_SECRETS, find
from tests.support.stack import KAFKA
from tests.support.workers import WorkerProcess, http_get, http_post

pytestmark = pytest.mark.integration
TOKEN = os.environ.get("API_TOKEN") or GLOBAL_SECRETS["API_TOKEN"]
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
MAX_COMMAND_BYTES = 100_000
CASES: Counter[str] = Counter()


@pytest.fixture(scope="module")
def spacy(module_worker_factory: Callable[..., WorkerProcess]) -> WorkerProcess:
    return module_worker_factory(
        "spacy",
        env={
            "API_TOKEN": TOKEN,
            "MAX_COMMAND_BYTES": str(MAX_COMMAND_BYTES),
            "RETRY_MAX_ATTEMPTS": "1",
            "LOG_LEVEL": "info",
        },
    )


@pytest.fixture(scope="module")
def api_schema(spacy: WorkerProcess) -> Any:
    return schemathesis.openapi.from_url(f"{spacy.url}/openapi.json")


# -- OpenAPI -----------------------------------------------------------------------------


def test_openapi_describes_the_worker_from_the_code(spacy: WorkerProcess) -> None:
    status, body = http_get(f"{spacy.url}/openapi.json")
    assert status == 200
    doc = json.loads(body)
    assert doc["openapi"] == "3.1.0"
    paths = doc["paths"]
    for path in ("/health", "/ready", "/metrics", "/commands", "/commands/{command_id}"):
        assert path in paths, path
    assert {"get", "post"} <= set(paths["/commands"])
    assert paths["/commands"]["post"]["security"] == [{"bearer": []}]
    for route in ("/analyze", "/keywords", "/similarity", "/categorize-topic", "/analyze-speech"):
        assert "post" in paths[route], route
    ref = paths["/analyze"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    name = ref["$ref"].rsplit("/", 1)[-1]
    analyze = doc["components"]["schemas"][name]
    assert analyze["properties"]["text"]["maxLength"] == 100_000  # from the payload model
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    assert all("#/$defs/" not in json.dumps(s) for s in doc["components"]["schemas"].values())


# -- schemathesis ------------------------------------------------------------------------

SETTINGS = settings(
    max_examples=int(os.environ.get("HOSTILE_SCHEMATHESIS_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
    derandomize=os.environ.get("HYPOTHESIS_PROFILE") == "ci" or bool(os.environ.get("CI")),
    database=None,
)


def test_no_server_errors_on_any_operation(api_schema: Any, spacy: WorkerProcess) -> None:
    """schemathesis generates valid and invalid requests for every documented operation."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    checks = [status_code_conformance, content_type_conformance, response_schema_conformance]
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"

        @SETTINGS
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            if isinstance(case.body, dict):
                case.body.pop("reply_to", None)  # no stray topics on the shared broker
            kwargs = case.as_transport_kwargs(base_url=spacy.url, headers=headers)
            try:  # our own request: schemathesis' resend path trips over urllib3-future
                response = requests.request(**kwargs, timeout=60)
            except requests.RequestException as exc:
                failures.append(f"{label}: no response ({exc!r:.300})")
                return
            CASES[label] += 1
            if response.status_code >= 500 and not (
                case.path == "/ready" and response.status_code == 503
            ):
                failures.append(f"{label} -> {response.status_code}: {response.text[:300]}")
                return
            try:
                case.validate_response(
                    response,
                    checks=checks if case.path == "/ready" else [*checks, not_a_server_error],
                    headers=headers,
                )
            except AssertionError as exc:
                failures.append(f"{label}: {str(exc)[:500]}")

        run()
    print(f"\nschemathesis: {sum(CASES.values())} cases over {len(CASES)} operations")
    assert not failures, "\n".join(failures[:20])


def test_schemathesis_case_count() -> None:
    print(f"\nschemathesis cases: {sum(CASES.values())} over {len(CASES)} operations")
    if CASES:  # only meaningful when the parametrized test ran in this session
        assert sum(CASES.values()) >= 50


# -- limits, auth, data view ---------------------------------------------------------------


def test_http_bodies_over_the_limit_are_413_with_a_clear_message(spacy: WorkerProcess) -> None:
    big = b'{"text": "' + b"a" * (1024 * 1024 + 10) + b'"}'
    for path, headers in (("/commands", AUTH), ("/analyze", {}), ("/keywords", {})):
        status, body = http_post(f"{spacy.url}{path}", big, headers)
        assert status == 413, (path, status)
        assert b"Maximum request body size 1048576 exceeded" in body


def test_payload_fields_have_limits(spacy: WorkerProcess) -> None:
    body = json.dumps({"text": "a" * 100_001}).encode()  # MAX_TEXT + 1, under the body limit
    status, out = http_post(f"{spacy.url}/analyze", body)
    assert status == 400
    error = json.loads(out)["error"]
    assert error["code"] == "INVALID_PAYLOAD"
    assert (
        error["errors"][0]["field"] == "text" and "at most 100000" in error["errors"][0]["message"]
    )


def test_mutations_need_the_bearer_token(spacy: WorkerProcess) -> None:
    body = json.dumps({"command_type": "system.ping", "payload": {}}).encode()
    assert http_post(f"{spacy.url}/commands", body)[0] == 401
    assert http_post(f"{spacy.url}/commands", body, {"Authorization": "Bearer nope"})[0] == 401
    assert http_post(f"{spacy.url}/commands", body, {"Authorization": TOKEN})[0] == 401
    assert http_post(f"{spacy.url}/commands", body, AUTH)[0] == 202


def test_the_table_data_view_is_off_by_default(spacy: WorkerProcess) -> None:
    assert "WEB_TABLES_ENABLED" not in os.environ
    assert http_get(f"{spacy.url}/table/")[0] == 404
    assert http_get(f"{spacy.url}/table/enginedge-status/")[0] == 404
    # Faust's /router/ pages are off too (they answered 500 to an unknown table name).
    assert http_get(f"{spacy.url}/router/")[0] == 404
    assert http_get(f"{spacy.url}/router/nope/")[0] == 404
    paths = json.loads(http_get(f"{spacy.url}/openapi.json")[1])["paths"]
    assert not [p for p in paths if p.startswith("/table")]


# -- Kafka -------------------------------------------------------------------------------


async def test_hostile_messages_over_kafka_end_failed_or_dead_lettered(
    spacy: WorkerProcess, module_prefix: str
) -> None:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    rng = random.Random(20261129)
    requests = f"{module_prefix}worker.spacy.requests"
    keyed: dict[str, bytes] = {}  # command id -> value: expect a result
    over_limit: set[str] = set()  # keyed, too big to parse: DLQ record AND a FAILED result
    anonymous: list[bytes] = []  # no usable id: expect a DLQ record (or a generated-id result)
    for i in range(300):
        cid = f"hx-{uuid.uuid4().hex[:12]}"
        kind = i % 6
        if kind == 0:
            anonymous.append(garbage(rng) or b"x")
        elif kind == 1:  # unknown command type
            keyed[cid] = json.dumps({"command_id": cid, "command_type": "nlp.nope"}).encode()
        elif kind == 2:  # invalid payload
            bad = rng.choice([{}, {"text": ""}, {"text": 5}, {"text": "x", "parts": ["nope"]}])
            keyed[cid] = json.dumps(
                {"command_id": cid, "command_type": "nlp.analyze", "payload": bad}
            ).encode()
        elif kind == 3:  # invalid envelope with an id: DLQ + FAILED result
            keyed[cid] = json.dumps(
                {"command_id": cid, "command_type": "NOT VALID", "attempt": -1}
            ).encode()
        elif kind == 4:  # deep nesting, amplifying numbers, or too big to even parse
            blob = rng.choice(
                [
                    b"[" * 200 + b"]" * 200,
                    b"[" + b",".join([b"1e9"] * 20_000) + b"]",  # 80 KB -> 260 KB re-encoded
                    b'"' + b"a" * (MAX_COMMAND_BYTES + 10) + b'"',
                ]
            )
            value = b'{"command_id":"%s","command_type":"nlp.analyze","payload":{"x":%s}}' % (
                cid.encode(),
                blob,
            )
            keyed[cid] = value
            if len(value) > MAX_COMMAND_BYTES:
                over_limit.add(cid)  # not parsed at all: the id comes from the Kafka key
        else:  # truncated JSON that still names its id
            full = json.dumps(
                {"command_id": cid, "command_type": "nlp.keywords", "payload": {"text": "x"}}
            ).encode()
            anonymous.append(full[: rng.randrange(10, len(full) - 1)])
    results: dict[str, dict[str, Any]] = {}
    dead: list[dict[str, Any]] = []
    consumer = AIOKafkaConsumer(
        f"{module_prefix}worker.spacy.results",
        f"{module_prefix}worker.spacy.dlq",
        bootstrap_servers=KAFKA,
        auto_offset_reset="latest",
        group_id=f"hostile-{uuid.uuid4().hex[:8]}",
    )
    await consumer.start()
    # gzip, as a plain Kafka client may send: the broker takes the compressed batch, the
    # worker sees the whole value and refuses it by MAX_COMMAND_BYTES.
    producer = AIOKafkaProducer(
        bootstrap_servers=KAFKA, max_request_size=2_000_000, compression_type="gzip"
    )
    await producer.start()
    try:
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=200)
        await consumer.seek_to_end()
        for cid, value in keyed.items():
            await producer.send(requests, key=cid.encode(), value=value)
        for value in anonymous:
            await producer.send(requests, key=rng.choice([None, b"junk"]), value=value)
        await producer.flush()
        deadline = asyncio.get_running_loop().time() + 120
        while asyncio.get_running_loop().time() < deadline:
            batches = await consumer.getmany(timeout_ms=1000)
            for tp, records in batches.items():
                for record in records:
                    data = json.loads(record.value)
                    if tp.topic.endswith(".dlq"):
                        dead.append(data)
                    else:
                        results[data["command_id"]] = data
            if set(keyed) <= set(results) and len(dead) >= len(anonymous) + len(over_limit):
                break
    finally:
        await producer.stop()
        await consumer.stop()
    missing = set(keyed) - set(results)
    assert not missing, f"{len(missing)} commands without a result"
    for cid in keyed:
        assert results[cid]["status"] == "FAILED", results[cid]
        assert results[cid]["error"]["message"]
    assert over_limit
    for cid in over_limit:  # no caller waits for its timeout: FAILED for the key's id
        error = results[cid]["error"]
        assert error["code"] == "MESSAGE_TOO_LARGE" and error["details"]["dead_lettered"], error
        assert f"MAX_COMMAND_BYTES={MAX_COMMAND_BYTES}" in error["message"]
    assert len(dead) >= len(anonymous) + len(over_limit)
    assert all(d["reason"] and d["code"] in ("UNDECODABLE", "MESSAGE_TOO_LARGE") for d in dead)
    too_big = [d for d in dead if "MAX_COMMAND_BYTES" in d["reason"]]
    assert too_big and all(f"MAX_COMMAND_BYTES={MAX_COMMAND_BYTES}" in d["reason"] for d in too_big)
    assert over_limit <= {d["command_id"] for d in too_big}
    # ... and the worker is still up and answering.
    assert spacy.proc is not None and spacy.proc.poll() is None
    status, body = http_post(
        f"{spacy.url}/keywords", json.dumps({"text": "Kafka carries commands."}).encode()
    )
    assert status == 200, body
    assert not find("\n".join(spacy.log_lines()))
    assert not [line for line in spacy.log_lines() if '"level": "critical"' in line]

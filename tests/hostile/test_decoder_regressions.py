"""Regressions for what the fuzzer found: each of these used to crash-loop a worker.

An exception out of the platform (not a handler) makes the worker crash without
acking, so the same message comes back after the restart: one hostile message
stopped a worker type for good.
"""

from __future__ import annotations

import base64

import orjson
import pytest

from enginedge_streams.codec import MAX_ERRORS, MAX_NESTING, decode_command
from enginedge_streams.dead_letters import DLQ_RAW_BYTES
from enginedge_streams.errors import DecodeError
from enginedge_streams.processor import IncomingMessage
from enginedge_streams.records import Status
from tests.hostile.fuzzing import Engine


def _engine() -> Engine:
    return Engine("spacy")


def test_deep_nesting_is_dead_lettered_not_a_serialisation_crash() -> None:
    raw = b'{"command_id":"deep-1","command_type":"nlp.analyze","payload":{"d":%s%s}}' % (
        b"[" * 300,
        b"]" * 300,
    )
    engine = _engine()
    engine.feed([(b"deep-1", raw)])  # used to raise "Maximum serialization depth exceeded"
    assert engine.outcomes["DLQ"] == 1 and engine.outcomes["DEAD_LETTERED"] == 1
    with pytest.raises(DecodeError, match=f"deeper than {MAX_NESTING}"):
        decode_command(raw, max_bytes=10**6)
    ok = b'{"command_type":"a.b","payload":{"d":%s%s}}' % (b"[" * 40, b"]" * 40)
    assert decode_command(ok, max_bytes=10**6).payload["d"]


def test_a_command_that_grows_when_re_encoded_is_held_to_the_limit() -> None:
    items = b",".join([b"1e9"] * 20_000)  # 80 KB raw, 260 KB once stored
    raw = b'{"command_id":"amp-1","command_type":"nlp.analyze","payload":{"x":[%s]}}' % items
    assert len(raw) < 100_000
    with pytest.raises(DecodeError, match="once re-encoded exceeds MAX_COMMAND_BYTES=100000"):
        decode_command(raw, max_bytes=100_000)


@pytest.mark.parametrize(
    "fields",
    [
        {"created_at": "9999-12-31T23:59:59Z"},
        {"created_at": "9999-12-31T00:00:00Z", "timeout_ms": 10**12},
    ],
)
def test_dates_beyond_datetime_are_dead_lettered(fields: dict[str, object]) -> None:
    raw = orjson.dumps({"command_id": "d-1", "command_type": "system.ping", **fields})
    engine = _engine()
    engine.feed([(b"d-1", raw)])  # used to raise OverflowError in effective_deadline
    assert engine.outcomes["DLQ"] == 1


def test_a_command_without_an_id_is_re_keyed_once_not_forever() -> None:
    engine = _engine()
    raw = b'{"command_type":"nlp.analyze","payload":{}}'
    engine.loop.run_until_complete(
        engine.processor.handle_message(IncomingMessage(b"some-key", raw, "t", 0, 1))
    )
    ((cid, resent),) = engine.sink.resubmitted
    # The generated id travels with the command: its next delivery is executed, not
    # re-keyed again with yet another id (which looped on the bus for ever).
    assert orjson.loads(resent)["command_id"] == cid
    engine.sink.resubmitted.clear()
    engine.feed([(cid.encode(), resent)])
    assert engine.sink.resubmitted == [] and engine.outcomes["INVALID_PAYLOAD"] == 1


def test_validation_details_are_bounded() -> None:
    engine = _engine()
    payload = {"text": "x", "parts": [1] * 50_000}
    raw = orjson.dumps({"command_id": "many-1", "command_type": "nlp.analyze", "payload": payload})
    engine.loop.run_until_complete(
        engine.processor.handle_message(IncomingMessage(b"many-1", raw, "t", 0, 1))
    )
    (result,) = engine.sink.results
    assert result.status is Status.FAILED and result.error is not None
    assert result.error.code == "INVALID_PAYLOAD"  # not RESULT_TOO_LARGE: the reason survives
    assert len(result.error.details["errors"]) == MAX_ERRORS
    assert result.error.details["error_count"] == 50_000


def test_dead_letters_of_big_messages_fit_in_a_kafka_record() -> None:
    engine = _engine()
    engine.processor.max_command_bytes = 2_000_000
    raw = b"\xff" * 900_000  # not JSON, under the limit: its DLQ record used to be 1.2 MB
    engine.loop.run_until_complete(
        engine.processor.handle_message(IncomingMessage(b"k" * 5000, raw, "t", 0, 1))
    )
    (letter,) = engine.sink.dead_letters
    assert len(base64.b64decode(letter.raw_base64)) == DLQ_RAW_BYTES
    assert "first 524288 of 900000 bytes" in letter.reason
    assert engine.sink.largest < 1_000_000

"""The command engine with fakes: statuses, error policy, idempotency, DLQ, re-drive."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import orjson
from pydantic import BaseModel, Field

from enginedge_streams.errors import NotFoundError, RateLimitedError, RetryableError
from enginedge_streams.handlers import CommandContext, CommandSpec, bind
from enginedge_streams.processor import CommandProcessor, IncomingMessage
from enginedge_streams.records import Command, Status, utcnow
from enginedge_streams.testing import InMemoryStatusStore, RecordingSink, in_memory_processor


class Echo(BaseModel):
    text: str = Field(min_length=1)
    fail_times: int = 0
    error: str = "retryable"
    sleep: float = 0.0


class Effects:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.failures: dict[str, int] = {}


async def handle_echo(cmd: Echo, *, effects: Effects, ctx: CommandContext) -> dict:
    effects.calls.append(ctx.command_id)
    if cmd.sleep:
        await asyncio.sleep(cmd.sleep)
    done = effects.failures.get(ctx.command_id, 0)
    if done < cmd.fail_times:
        effects.failures[ctx.command_id] = done + 1
        if cmd.error == "retryable":
            raise RetryableError("flaky dependency")
        if cmd.error == "ratelimited":
            raise RateLimitedError("slow down", retry_after=0.01)
        if cmd.error == "notfound":
            raise NotFoundError("no such thing")
        raise RuntimeError("boom")
    ctx.progress(step="done")
    ctx.add_usage(prompt_tokens=3, completion_tokens=4)
    return {"echo": cmd.text}


def make(
    max_attempts: int = 3,
) -> tuple[CommandProcessor, InMemoryStatusStore, RecordingSink, Effects]:
    store, sink, effects = InMemoryStatusStore(), RecordingSink(), Effects()
    handlers = bind([CommandSpec("test.echo", Echo, handle_echo)], {"effects": effects})
    proc = in_memory_processor("test", handlers, store=store, sink=sink, max_attempts=max_attempts)
    return proc, store, sink, effects


def msg(cmd: Command, *, key: bytes | None = None, offset: int = 0) -> IncomingMessage:
    raw = cmd.model_dump_json().encode()
    return IncomingMessage(cmd.command_id.encode() if key is None else key, raw, "t", 0, offset)


async def test_completed_result_and_status_lifecycle():
    proc, store, sink, _ = make()
    cmd = Command(command_type="test.echo", payload={"text": "hi"}, correlation_id="c1")
    await proc.handle_message(msg(cmd))
    ((result, reply_to),) = sink.results
    assert result.status is Status.COMPLETED
    assert result.result == {"echo": "hi"}
    assert result.correlation_id == "c1" and result.attempts == 1
    assert result.usage is not None and result.usage.prompt_tokens == 3
    statuses = [w.status for w in store.writes]
    assert statuses[0] is Status.RUNNING and statuses[-1] is Status.COMPLETED
    assert store.get(cmd.command_id).progress == {"step": "done"}


async def test_invalid_payload_is_failed_with_field_errors():
    proc, _, sink, effects = make()
    await proc.handle_message(msg(Command(command_type="test.echo", payload={"text": ""})))
    result = sink.results[0][0]
    assert result.status is Status.FAILED
    assert result.error.code == "INVALID_PAYLOAD"
    assert result.error.details["errors"][0]["field"] == "text"
    assert effects.calls == []


async def test_unknown_command_type():
    proc, _, sink, _ = make()
    await proc.handle_message(msg(Command(command_type="test.nope", payload={})))
    assert sink.results[0][0].error.code == "UNKNOWN_COMMAND_TYPE"


async def test_retryable_error_is_retried_then_completes():
    proc, store, sink, effects = make()
    cmd = Command(command_type="test.echo", payload={"text": "x", "fail_times": 2})
    await proc.handle_message(msg(cmd))
    result = sink.results[0][0]
    assert result.status is Status.COMPLETED and result.attempts == 3
    assert Status.RETRYING in [w.status for w in store.writes]
    assert len(effects.calls) == 3


async def test_retries_exhausted_fail_as_retryable():
    proc, _, sink, _ = make(max_attempts=2)
    cmd = Command(
        command_type="test.echo", payload={"text": "x", "fail_times": 5, "error": "ratelimited"}
    )
    await proc.handle_message(msg(cmd))
    result = sink.results[0][0]
    assert result.status is Status.FAILED and result.attempts == 2
    assert result.error.code == "RATE_LIMITED" and result.error.retryable


async def test_permanent_and_unexpected_errors_fail_at_once():
    proc, _, sink, effects = make()
    await proc.handle_message(
        msg(
            Command(
                command_type="test.echo",
                payload={"text": "x", "fail_times": 1, "error": "notfound"},
            )
        )
    )
    await proc.handle_message(
        msg(
            Command(
                command_type="test.echo", payload={"text": "x", "fail_times": 1, "error": "crash"}
            )
        )
    )
    codes = [r.error.code for r, _ in sink.results]
    assert codes == ["NOT_FOUND", "INTERNAL_ERROR"]
    assert len(effects.calls) == 2


async def test_deadline_passed_before_start():
    proc, _, sink, effects = make()
    cmd = Command(
        command_type="test.echo", payload={"text": "x"}, deadline=utcnow() - timedelta(seconds=1)
    )
    await proc.handle_message(msg(cmd))
    assert sink.results[0][0].error.code == "DEADLINE_EXCEEDED"
    assert effects.calls == []


async def test_deadline_hit_while_running():
    proc, _, sink, _ = make()
    cmd = Command(command_type="test.echo", payload={"text": "x", "sleep": 5}, timeout_ms=100)
    await proc.handle_message(msg(cmd))
    result = sink.results[0][0]
    assert result.status is Status.FAILED and result.error.code == "DEADLINE_EXCEEDED"


async def test_same_command_id_twice_executes_once_and_republishes():
    proc, _, sink, effects = make()
    cmd = Command(command_type="test.echo", payload={"text": "once"})
    await proc.handle_message(msg(cmd, offset=1))
    await proc.handle_message(msg(cmd, offset=2))
    assert effects.calls == [cmd.command_id]
    assert len(sink.results) == 2
    assert sink.results[0][0] == sink.results[1][0]


async def test_duplicate_while_in_flight_is_ignored():
    proc, _, sink, effects = make()
    cmd = Command(command_type="test.echo", payload={"text": "x", "sleep": 0.05})
    await asyncio.gather(proc.handle_message(msg(cmd)), proc.handle_message(msg(cmd)))
    assert len(effects.calls) == 1 and len(sink.results) == 1


async def test_undecodable_goes_to_dlq_with_raw_bytes():
    proc, _, sink, _ = make()
    await proc.handle_message(IncomingMessage(None, b"\xff\x00not json", "t", 3, 7))
    (letter,) = sink.dead_letters
    assert letter.code == "UNDECODABLE" and letter.partition == 3 and letter.offset == 7
    import base64

    assert base64.b64decode(letter.raw_base64) == b"\xff\x00not json"
    assert sink.results == []  # no key, no id: nobody to answer


async def test_undecodable_message_keyed_by_an_id_gets_a_failed_result_and_status():
    proc, store, sink, _ = make()
    await proc.handle_message(IncomingMessage(b"cmd-42", b"\xff\x00not json", "t", 3, 7))
    (letter,) = sink.dead_letters
    assert letter.command_id == "cmd-42"
    ((result, reply_to),) = sink.results
    assert result.command_id == "cmd-42" and result.status is Status.FAILED
    assert result.error.code == "UNDECODABLE" and result.error.details["dead_lettered"] is True
    assert reply_to is None
    record = store.get("cmd-42")
    assert record is not None and record.status is Status.FAILED and record.result == result
    # Sent again (a caller retrying): dead-lettered again, the stored result answers again.
    await proc.handle_message(IncomingMessage(b"cmd-42", b"\xff\x00not json", "t", 3, 8))
    assert len(sink.dead_letters) == 2 and [r for r, _ in sink.results] == [result, result]


async def test_bad_envelope_with_id_is_dead_lettered_and_reported():
    proc, _, sink, _ = make()
    raw = orjson.dumps({"command_id": "abc", "command_type": "NOT VALID", "payload": []})
    await proc.handle_message(IncomingMessage(b"abc", raw, "t", 0, 1))
    assert sink.dead_letters[0].command_id == "abc"
    result = sink.results[0][0]
    assert result.status is Status.FAILED and result.command_id == "abc"
    assert result.error.details["dead_lettered"] is True


async def test_oversize_message_is_dead_lettered():
    proc, _, sink, _ = make()
    cmd = Command(command_type="test.echo", payload={"text": "x" * 20_000})
    await proc.handle_message(msg(cmd))
    assert "MAX_COMMAND_BYTES" in sink.dead_letters[0].reason
    assert "artifact reference" in sink.dead_letters[0].reason
    ((result, _),) = sink.results
    assert result.command_id == cmd.command_id and result.status is Status.FAILED
    assert result.error.code == "MESSAGE_TOO_LARGE"
    assert result.error.details["limit"] == proc.max_command_bytes


async def test_message_keyed_differently_is_rekeyed_not_executed():
    proc, _, sink, effects = make()
    cmd = Command(command_type="test.echo", payload={"text": "x"})
    await proc.handle_message(msg(cmd, key=b""))
    assert sink.resubmitted[0][0] == cmd.command_id
    assert effects.calls == []


async def test_store_failure_is_fatal_not_acked():
    """The terminal record cannot be written: nothing is published, the worker stops
    unacked, and Kafka redelivers the command (at-least-once)."""
    proc, store, sink, effects = make()
    store.fail_puts = True
    seen = []

    async def fatal(exc):
        seen.append(exc)

    proc.on_fatal = fatal
    await proc.handle_message(msg(Command(command_type="test.echo", payload={"text": "x"})))
    assert seen and isinstance(seen[0], OSError)
    assert sink.results == []


async def test_a_fast_command_writes_only_its_terminal_record():
    """The RUNNING record stays in memory unless a commit starts while it runs."""
    proc, store, sink, _ = make()
    store.keep_history = True
    cmd = Command(command_type="test.echo", payload={"text": "quick"})
    proc.handlers = bind([CommandSpec("test.echo", Echo, _quick)], {})
    await proc.handle_message(msg(cmd))
    assert [w.status for w in store.writes] == [Status.COMPLETED]
    assert proc.unwritten == {} and proc.lookup(cmd.command_id).status is Status.COMPLETED


async def _quick(cmd: Echo, *, ctx: CommandContext) -> dict:
    return {"echo": cmd.text}


async def test_in_flight_records_are_written_when_a_commit_starts():
    proc, store, sink, _ = make()
    cmd = Command(command_type="test.echo", payload={"text": "slow", "sleep": 0.2})
    task = asyncio.create_task(proc.handle_message(msg(cmd, offset=7)))
    await asyncio.sleep(0.05)
    assert store.get(cmd.command_id) is None  # not in the table yet ...
    assert proc.lookup(cmd.command_id).status is Status.RUNNING  # ... but visible
    assert proc.persist_in_flight() == 1
    stored = store.get(cmd.command_id)
    assert stored.status is Status.RUNNING and stored.source_offset == 7
    assert stored.command == cmd
    await task
    assert store.get(cmd.command_id).status is Status.COMPLETED
    assert proc.persist_in_flight() == 0


async def test_redrive_only_commands_whose_offset_was_committed():
    proc, store, sink, _ = make()
    # Simulate two RUNNING records left by a crash: offset 5 (committed past) and 9 (not).
    from enginedge_streams.records import StatusRecord

    for offset in (5, 9):
        cmd = Command(command_id=f"c{offset}", command_type="test.echo", payload={"text": "x"})
        store.put(
            StatusRecord(
                command=cmd,
                status=Status.RUNNING,
                worker_type="test",
                source_partition=0,
                source_offset=offset,
            )
        )
    assert proc.rebuild_pending() == 2
    ids = proc.redrive_candidates({0: 7}, now=100.0)
    assert ids == ["c5"]
    assert proc.redrive_candidates({0: 7}, now=101.0) == []  # not again right away
    assert await proc.redrive(ids) == 1
    assert sink.resubmitted[0][0] == "c5"
    # The re-driven command runs normally when it comes back.
    await proc.handle_message(IncomingMessage(b"c5", sink.resubmitted[0][1], "t", 0, 20))
    assert sink.results[-1][0].status is Status.COMPLETED
    assert "c5" not in proc.pending


async def test_a_result_too_big_for_kafka_is_failed_not_published():
    proc, store, sink, _ = make()
    proc.max_result_bytes = 2_000
    cmd = Command(command_type="test.echo", payload={"text": "x" * 5_000})
    await proc.handle_message(msg(cmd))
    ((result, _),) = sink.results
    assert result.status is Status.FAILED and result.result is None
    assert result.error.code == "RESULT_TOO_LARGE" and not result.error.retryable
    assert result.error.details["limit"] == 2_000 and result.error.details["size"] > 5_000
    assert store.get(cmd.command_id).status is Status.FAILED
    # a small result on the same worker still completes
    await proc.handle_message(msg(Command(command_type="test.echo", payload={"text": "ok"})))
    assert sink.results[-1][0].status is Status.COMPLETED


async def test_a_command_whose_partition_moved_away_is_not_published():
    proc, store, sink, effects = make()
    owned = {0: False}
    proc.owns_partition = lambda p: owned.get(p, True)
    cmd = Command(command_type="test.echo", payload={"text": "hi"})
    await proc.handle_message(msg(cmd))
    assert sink.results == [] and proc.abandoned == 1  # the new owner runs it
    assert store.get(cmd.command_id).status is Status.COMPLETED
    owned[0] = True  # the partition comes back: the stored result is re-published
    await proc.handle_message(msg(cmd))
    assert [r.status for r, _ in sink.results] == [Status.COMPLETED]
    assert effects.calls == [cmd.command_id]


async def test_no_running_record_for_a_partition_this_process_lost():
    proc, store, _, _ = make()
    cmd = Command(command_type="test.echo", payload={"text": "slow", "sleep": 0.1})
    task = asyncio.create_task(proc.handle_message(msg(cmd, offset=3)))
    await asyncio.sleep(0.02)
    proc.owns_partition = lambda partition: False  # a rebalance moved partition 0 away
    assert proc.persist_in_flight() == 0
    assert store.get(cmd.command_id) is None
    await task
    assert proc.abandoned == 1 and store.get(cmd.command_id).status is Status.COMPLETED


def test_decode_skips_the_re_encode_only_where_it_cannot_exceed_the_limit():
    """A number is what grows when a command is re-encoded (`1e15` -> 18 characters);
    the skip is taken only where even all-numbers input stays below the limit."""
    from enginedge_streams.codec import (
        REENCODE_GROWTH,
        REENCODE_SLACK,
        decode_command,
        encode_command,
    )

    for token in (b"1e15", b"9E15", b"1e-7", b"-0.0e0", b"123456789012345678901234567890"):
        items = b",".join([token] * 2000)
        raw = b'{"command_type":"test.echo","payload":{"x":[' + items + b"]}}"
        size = len(encode_command(decode_command(raw, max_bytes=10**8)))
        assert size <= len(raw) * REENCODE_GROWTH + REENCODE_SLACK
    bare = b'{"command_type":"test.echo"}'  # the envelope's defaults are added
    assert len(encode_command(decode_command(bare, max_bytes=10**6))) <= REENCODE_SLACK

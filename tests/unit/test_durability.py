"""A command's state writes are acknowledged before its result is published."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import BaseModel

from enginedge_streams.durability import settle, track, tracking
from enginedge_streams.handlers import CommandContext, CommandSpec, bind
from enginedge_streams.processor import CommandProcessor, IncomingMessage
from enginedge_streams.records import Command, Status
from enginedge_streams.testing import InMemoryStatusStore, RecordingSink, in_memory_processor


class SlowAckStore(InMemoryStatusStore):
    """Each write returns only when the test acknowledges it (like a producer buffer)."""

    def __init__(self) -> None:
        super().__init__()
        self.acks: list[asyncio.Future[None]] = []

    def put(self, record) -> None:  # type: ignore[override]
        super().put(record)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.acks.append(fut)
        track(fut)


class Note(BaseModel):
    text: str


async def handle(cmd: Note, *, ctx: CommandContext, store: SlowAckStore) -> dict:
    # a handler's own table write, in a child task: tracked too
    async def write() -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        store.acks.append(fut)
        track(fut)

    await asyncio.create_task(write())
    return {"text": cmd.text}


def processor(store, sink) -> CommandProcessor:
    handlers = bind([CommandSpec("t.note", Note, handle)], {"store": store})
    return in_memory_processor("t", handlers, store=store, sink=sink, timeout_s=10)


async def test_result_waits_for_every_write_of_the_command():
    store, sink = SlowAckStore(), RecordingSink()
    proc = processor(store, sink)
    cmd = Command(command_type="t.note", payload={"text": "hi"})
    msg = IncomingMessage(cmd.command_id.encode(), cmd.model_dump_json().encode(), "t", 0, 0)
    task = asyncio.create_task(proc.handle_message(msg))
    await asyncio.sleep(0.05)
    assert len(store.acks) == 2  # the handler's write, COMPLETED
    assert sink.results == []  # nothing published while writes are unacknowledged
    store.acks[0].set_result(None)
    await asyncio.sleep(0.02)
    assert sink.results == []
    store.acks[1].set_result(None)
    await task
    assert [r.status for r, _ in sink.results] == [Status.COMPLETED]


async def test_a_running_record_written_at_a_commit_is_awaited_by_its_command():
    """persist_in_flight() (an offset commit starting) writes the RUNNING record in the
    command's own context: its write joins the command's tracked writes."""
    store, sink = SlowAckStore(), RecordingSink()
    proc = processor(store, sink)
    gate = asyncio.Event()

    async def held(cmd: Note, *, ctx: CommandContext) -> dict:
        await gate.wait()
        return {"text": cmd.text}

    proc.handlers = bind([CommandSpec("t.note", Note, held)], {})
    cmd = Command(command_type="t.note", payload={"text": "hi"})
    msg = IncomingMessage(cmd.command_id.encode(), cmd.model_dump_json().encode(), "t", 2, 40)
    task = asyncio.create_task(proc.handle_message(msg))
    await asyncio.sleep(0.02)
    assert store.writes == [] and proc.lookup(cmd.command_id).status is Status.RUNNING
    assert proc.persist_in_flight() == 1
    assert proc.persist_in_flight() == 0  # written once
    (running,) = store.writes
    assert running.status is Status.RUNNING and running.source_offset == 40
    gate.set()
    await asyncio.sleep(0.02)
    store.acks[1].set_result(None)  # COMPLETED acknowledged, RUNNING not yet
    await asyncio.sleep(0.02)
    assert sink.results == []
    store.acks[0].set_result(None)
    await task
    assert [w.status for w in store.writes] == [Status.RUNNING, Status.COMPLETED]
    assert [r.status for r, _ in sink.results] == [Status.COMPLETED]


async def test_a_failed_write_is_fatal_not_published():
    store, sink = SlowAckStore(), RecordingSink()
    proc = processor(store, sink)
    fatal: list[BaseException] = []

    async def on_fatal(exc: BaseException) -> None:
        fatal.append(exc)

    proc.on_fatal = on_fatal
    cmd = Command(command_type="t.note", payload={"text": "hi"})
    msg = IncomingMessage(cmd.command_id.encode(), cmd.model_dump_json().encode(), "t", 0, 0)
    task = asyncio.create_task(proc.handle_message(msg))
    await asyncio.sleep(0.05)
    store.acks[0].set_exception(OSError("broker gone"))
    for fut in store.acks[1:]:
        fut.set_result(None)
    await task
    assert sink.results == [] and isinstance(fatal[0], OSError)


async def test_tracking_is_scoped_and_settle_clears():
    loop = asyncio.get_running_loop()
    outside = loop.create_future()
    track(outside)  # no tracking context: ignored
    with tracking() as writes:
        done = loop.create_future()
        done.set_result(1)
        track(done)
        track("not a future")
    assert writes == [done]
    await settle(writes)
    assert writes == []
    with tracking() as writes:
        bad = loop.create_future()
        bad.set_exception(RuntimeError("nope"))
        track(bad)
    with pytest.raises(RuntimeError):
        await settle(writes)

"""The Faust consumer commits a command's offset only once the processor finished it."""

from __future__ import annotations

import asyncio
import time

from faust.types import TP
from faust.types.tuples import ConsumerMessage

from enginedge_streams.faust_app import CommitGuardConsumer, create_app
from enginedge_streams.settings import Settings

TOPIC = "worker.spacy.requests"
TP0 = TP(TOPIC, 0)


def message(offset: int, topic: str = TOPIC) -> ConsumerMessage:
    return ConsumerMessage(topic, 0, offset, time.time(), 0, [], b"k", b"v", None, generation_id=4)


def consumer(tmp_path) -> CommitGuardConsumer:
    app = create_app(Settings(data_dir=tmp_path), "spacy")
    c = app.consumer
    assert isinstance(c, CommitGuardConsumer)
    app.enginedge_source_topics = [TOPIC]  # the runtime registers its requests topic
    c._floor[TP0] = 10  # assigned here, committed offset 10 (seek_to_committed)
    app.topics.acks_enabled_for = lambda topic: True  # the requests topic, once subscribed
    return c


def test_finished_messages_are_committed(tmp_path):
    c = consumer(tmp_path)
    for offset in (10, 11):
        m = message(offset)
        c._unacked_messages.add(m)
        c.finished(m)
        assert c.ack(m)
    assert c._new_offset(TP0) == 12
    c._committed_offset[TP0] = 12


def test_a_message_faust_acks_without_the_processor_is_not_committed(tmp_path):
    """Around a rebalance Faust's stream skips queued messages and acks them;
    committing those would lose commands that never ran."""
    c = consumer(tmp_path)
    done = message(10)
    skipped = [message(o) for o in (11, 12, 13)]
    c.finished(done)
    for m in [done, *skipped]:
        c._unacked_messages.add(m)
        c.ack(m)
    assert all(m.acked for m in skipped)  # released: wait_empty does not wait for them
    assert not c._unacked_messages
    assert c.uncounted == 3
    assert c._acked[TP0] == [10]
    assert c._new_offset(TP0) == 11  # the commit stops before the skipped ones
    c._committed_offset[TP0] = 11  # Faust records the commit
    # after the seek to committed offsets they come again, run, and count
    again = message(11)
    c.finished(again)
    assert c.ack(again)
    assert c._new_offset(TP0) == 12


def finish(c: CommitGuardConsumer, *offsets: int) -> None:
    for offset in offsets:
        m = message(offset)
        c.finished(m)
        c.ack(m)


def test_nothing_is_committed_past_a_hole_at_the_head(tmp_path):
    """The fetcher skipped 10..12 during a rebalance and delivered 13 on: Faust would
    commit 15 once it forgot the committed offset, or 14 with a one-offset hole."""
    c = consumer(tmp_path)
    finish(c, 13, 14)
    assert c._new_offset(TP0) is None
    c._committed_offset.pop(TP0, None)  # what Faust's revocation does
    assert c._new_offset(TP0) is None
    finish(c, 11)  # one-offset hole at 10
    assert c._new_offset(TP0) is None
    finish(c, 10, 12)
    assert c._new_offset(TP0) == 15


def test_offsets_never_delivered_are_fetched_again(tmp_path):
    c = consumer(tmp_path)
    seeks: list[tuple[TP, int]] = []

    async def seek(tp: TP, offset: int) -> None:
        seeks.append((tp, offset))

    c.seek = seek  # type: ignore[method-assign]
    in_flight = message(10)
    c._unacked_messages.add(in_flight)  # taken by the agent, still running
    finish(c, 11, 12)

    async def rounds(n: int) -> None:
        for _ in range(n):
            assert c._new_offset(TP0) is None
            await asyncio.sleep(0)

    asyncio.run(rounds(5))
    assert seeks == []  # a slow command at the head: wait for it
    c._unacked_messages.discard(in_flight)  # ...but it never was: skipped by the fetcher
    asyncio.run(rounds(3))
    assert seeks == [(TP0, 10)] and c.refetches == 1


def test_a_revoked_partition_is_not_committed_from_here(tmp_path):
    c = consumer(tmp_path)
    asyncio.run(c.on_partitions_revoked({TP0}))
    finish(c, 10, 11)  # finished while the revocation waits for in-flight commands
    assert c._new_offset(TP0) is None  # the next owner re-reads them (the table answers)


def test_other_topics_are_acked_as_faust_does(tmp_path):
    c = consumer(tmp_path)
    assert c.ack(message(10, topic="something.else"))
    assert c._new_offset(TP("something.else", 0)) == 11


def test_streams_ack_through_the_guard():
    """Faust's Cython stream iterator appends acked offsets itself, bypassing
    CommitGuardConsumer.ack; the platform's subclass of it sends an unfinished
    message's ack through the consumer (tests/unit/test_faust_patches.py)."""
    import faust.streams

    from enginedge_streams.faust_patches import GuardedStreamIterator

    assert faust.streams._CStreamIterator is GuardedStreamIterator

"""The consumer that commits only what the processor finished, and Faust's Cython stream
iterator with its inlined ack guarded (see the package's docstring).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

import faust
import faust.streams as faust_streams
from faust.transport import by_url
from faust.transport.drivers import aiokafka as faust_aiokafka
from mode.utils.futures import notify

log = logging.getLogger("enginedge.app")


# -- the consumer: commit only what the processor finished -------------------------------


class _NoGapReadOffsets(dict):  # type: ignore[type-arg]
    """Faust's per-partition "last read offset", disabled for our command topics.

    Faust drops a fetched message whose offset is below this value and, when a
    fetched offset jumps ahead of it, records the skipped range as a "gap" that
    it later commits past (meant for compacted topics). Around restarts and
    rebalances its fetcher can run before the seek to committed offsets
    (faust-streaming #596), so a range of commands that was never processed is
    committed as a gap: measured here as ~60 lost commands per partition after
    a SIGKILL. Command topics are never compacted and carry no transaction
    markers, so a gap there is always Faust's own loss. Returning ``None``
    turns both the drop and the gap off: a re-fetched message is delivered
    again (the status table makes that harmless) instead of being lost.
    """

    def __init__(self, topics: set[str]) -> None:
        super().__init__()
        self.topics = topics

    def __getitem__(self, tp: object) -> int | None:
        if getattr(tp, "topic", None) in self.topics:
            return None
        return self.get(tp)


def disable_read_offset_gaps(consumer: Any, topics: set[str]) -> None:
    """No dropped re-fetches and no committed "gaps" on ``topics`` (see _NoGapReadOffsets)."""
    consumer._read_offset = _NoGapReadOffsets(topics)


class CommitGuardConsumer(faust_aiokafka.Consumer):
    """Faust's Kafka consumer, committing only commands our processor finished.

    Faust acks (and so commits) command messages it never handed to our agent:
    around a rebalance its stream skips the queued messages of an older
    consumer generation, or fetched while flow control is suspended, and acks
    them "so the lag does not grow". When the partition stays with this
    process or comes back to it, those commands were committed without ever
    running: 74-535 of 2,000 lost after a broker outage with a second worker
    joining (reliability scenario 4). Here an ack of a source-topic message
    counts only if the runtime marked it :meth:`finished`; any other ack
    releases it (``wait_empty`` does not wait for it) without counting its
    offset, so the commit stops before it and, after the seek to committed
    offsets that follows every assignment, it is fetched and run again (the
    status table answers a command that had in fact completed).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._finished: weakref.WeakSet[Any] = weakref.WeakSet()
        self.uncounted = 0  # acks of messages never finished by the processor
        self._floor: dict[Any, int | None] = {}  # committed offset at assignment
        self._holes: dict[Any, tuple[int, int]] = {}  # tp -> (base, commit rounds seen)
        self.refetches = 0

    async def seek_to_committed(self) -> Any:
        """Seek to the committed offsets, remembering each one as the partition's floor."""
        committed = await super().seek_to_committed()
        for tp, offset in committed.items():
            self._floor[tp] = offset if offset is not None and offset >= 0 else None
        return committed

    async def on_partitions_revoked(self, revoked: Any) -> None:
        for tp in revoked:
            self._floor.pop(tp, None)
        await super().on_partitions_revoked(revoked)

    def _new_offset(self, tp: Any) -> int | None:
        """The offset to commit, never past a command that was not finished.

        Faust commits the first run of consecutive acked offsets. It checks that
        the run starts at the committed offset only when that offset is known
        and non-zero, and lets a one-offset hole through; after a revocation it
        forgets the committed offset, so the run after a hole is committed — a
        range of commands the fetcher skipped during a rebalance was lost this
        way (scenario 4). For command topics the run must start exactly at the
        last committed offset of the current assignment, else nothing is
        committed (and a revoked partition is not committed from here at all).
        """
        if tp.topic in self.guarded_topics:
            if tp not in self._floor:
                return None
            base = self._committed_offset[tp]
            if base is None:
                base = self._floor[tp]
            acked = self._acked[tp]
            if base is not None and acked and min(acked) > base:
                self._hole_at_head(tp, base, min(acked))
                return None
            self._holes.pop(tp, None)
        offset: int | None = super()._new_offset(tp)
        return offset

    def _hole_at_head(self, tp: Any, base: int, first_acked: int) -> None:
        """Offsets ``base .. first_acked - 1`` are not finished. In flight: wait.
        Never delivered (the fetcher skipped them) for three commit rounds: fetch
        them again from ``base`` (what follows is answered from the status table)."""
        if any(m.tp == tp and base <= m.offset < first_acked for m in list(self._unacked_messages)):
            self._holes.pop(tp, None)
            return
        seen, rounds = self._holes.get(tp, (base, 0))
        rounds = rounds + 1 if seen == base else 1
        if rounds < 3:
            self._holes[tp] = (base, rounds)
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not called from the consumer's commit (a unit test)
            return
        self._holes.pop(tp, None)
        self.refetches += 1
        log.warning(
            "offsets %d..%d of %s were never delivered to the agent; fetching them again",
            base,
            first_acked - 1,
            tp,
        )
        self._refetch = loop.create_task(self.seek(tp, base))

    @property
    def guarded_topics(self) -> list[str]:
        """The app's command (source) topics."""
        return getattr(self.app, "enginedge_source_topics", [])

    def finished(self, message: Any) -> None:
        """The processor is done with this message: its offset may be committed."""
        self._finished.add(message)

    def counts(self, message: Any) -> bool:
        """Whether an ack of ``message`` may count towards the committed offset."""
        return message.topic not in self.guarded_topics or message in self._finished

    def ack(self, message: Any) -> bool:
        if not self.counts(message):
            if not message.acked:
                message.acked = True
                self.uncounted += 1
                self._unacked_messages.discard(message)
                notify(self._waiting_for_ack)
            return False
        self._finished.discard(message)
        return bool(super().ack(message))


class KafkaTransport(faust_aiokafka.Transport):
    Consumer = CommitGuardConsumer


class TransportApp(faust.App):
    """A Faust app whose Kafka transport is :class:`KafkaTransport`."""

    def _new_transport(self) -> Any:
        driver = by_url(self.conf.broker_consumer[0])
        if driver is faust_aiokafka.Transport:
            driver = KafkaTransport
        return driver(self.conf.broker_consumer, self)


# -- the stream iterator: Faust's Cython one, its inlined ack guarded ----------------------

_CYTHON_ITERATOR: Any = getattr(faust_streams, "_CStreamIterator", None)

if _CYTHON_ITERATOR is not None:

    class GuardedStreamIterator(_CYTHON_ITERATOR):  # type: ignore[misc]
        """Faust's Cython stream iterator whose acks respect :class:`CommitGuardConsumer`.

        Its ``after`` inlines ``Consumer.ack`` (it appends to the consumer's acked
        offsets itself), which would bypass the guard. Here a message the
        processor did not finish is acked through the consumer instead — as
        Faust's pure-Python iterator acks every message — where the guarded
        ``ack`` releases it without counting its offset; every other message
        takes the Cython path (the same bookkeeping as ``Consumer.ack``).
        """

        def __init__(self, stream: Any) -> None:
            super().__init__(stream)
            consumer = self.consumer
            self.counts = consumer.counts if isinstance(consumer, CommitGuardConsumer) else None

        def after(self, event: Any, do_ack: Any, sensor_state: Any) -> Any:
            counts = self.counts
            if counts is not None and do_ack and event is not None:
                message = event.message
                if not message.acked and not counts(message):
                    last_stream_to_ack = event.ack()
                    tp, offset = message.tp, message.offset
                    self.on_stream_event_out(tp, offset, self.stream, event, sensor_state)
                    if last_stream_to_ack:
                        self.on_message_out(tp, offset, message)
                    return None
            return super().after(event, do_ack, sensor_state)

else:  # Faust built without its extensions: the Python iterator calls Consumer.ack
    GuardedStreamIterator = None  # type: ignore[assignment,misc]

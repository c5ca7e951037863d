"""Every place the platform relies on Faust, mode or aiokafka internals, in one module.

Faust's public API does not cover what exactly-once effects need from the
consumer (commit only what the processor finished, never past a hole, a
confirmed group membership before a command starts) nor key-placed RocksDB
tables. What needs private names lives here and nowhere else:

* :class:`CommitGuardConsumer` — Faust's Kafka consumer with a guarded ``ack``
  and ``_new_offset`` (private bookkeeping: ``_acked``, ``_committed_offset``,
  ``_unacked_messages``, ``_waiting_for_ack``); :class:`KafkaTransport`, and
  :class:`TransportApp`, whose ``_new_transport`` makes Faust use them.
* :class:`GuardedStreamIterator` — Faust's Cython stream iterator
  (``faust.streams._CStreamIterator``) inlines ``Consumer.ack``; the subclass
  sends the ack of a message the processor did not finish through the
  consumer's guarded ``ack`` (see docs/reliability.md).
* :func:`disable_read_offset_gaps` — the consumer's ``_read_offset``.
* :func:`observe_heartbeats` — wraps aiokafka's
  ``GroupCoordinator._do_heartbeat``; :func:`group_coordinator` finds it.
* :class:`KeyPlacedRocksStore` and :func:`new_key_placed_store` — the RocksDB
  store's ``_set``/``_get``/``_del``/``_contains``/``_dbs_for_actives`` and the
  table's ``_new_store``.
* :class:`CachedPrometheusMonitor` — Faust's Prometheus sensors (its ``_metrics``
  and ``_stream_label``) with their label children cached.
* :func:`raw_table_get` — the RocksDB store's ``_get``.
* :func:`crash`, :func:`kafka_consumer`, :func:`committed_offsets`,
  :func:`started_producer`, :func:`force_metadata_update` — private attributes
  read elsewhere.

:func:`apply` installs the class-level patches (idempotent); it runs when this
module is imported, which ``enginedge_streams.faust_app`` does. ``setup.cfg``
pins ``faust-streaming`` and ``aiokafka`` below the next release after the
versions tested (:data:`TESTED`); ``tests/unit/test_faust_patches.py`` checks
that every internal in :data:`INTERNALS` still exists with the expected
parameters, so an upgrade that moves one fails there first.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Iterator
from typing import Any

import faust
import faust.streams as faust_streams
from aiokafka.consumer.group_coordinator import GroupCoordinator
from faust.sensors import Monitor
from faust.sensors.prometheus import PrometheusMonitor
from faust.stores.rocksdb import Store as RocksStore
from faust.transport import by_url
from faust.transport.drivers import aiokafka as faust_aiokafka
from mode.utils.futures import notify

log = logging.getLogger("enginedge.app")

#: The versions these patches were written and tested against (setup.cfg bounds).
TESTED = {"faust-streaming": "0.15.3", "aiokafka": "0.14.0"}

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


# -- Faust's Prometheus sensors, their label children cached -------------------------------


class CachedPrometheusMonitor(PrometheusMonitor):
    """Faust's ``PrometheusMonitor`` with the same series, its label children looked up once.

    The stock monitor calls ``Metric.labels(...)`` (a lock, a tuple, a dict lookup,
    and for streams a regex over the stream's label) for every message, event,
    table operation and send: ~4 % of a no-op command's CPU. Here each child is
    resolved once per label value and kept; the values and names are Faust's.
    """

    def __init__(self, metrics: Any, **kwargs: Any) -> None:
        super().__init__(metrics, **kwargs)
        self._label_children: dict[tuple[str, Any], Any] = {}
        self._stream_children: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()

    def _child(self, kind: str, key: Any, make: Any) -> Any:
        child = self._label_children.get((kind, key))
        if child is None:
            child = self._label_children[(kind, key)] = make()
        return child

    def on_message_in(self, tp: Any, offset: int, message: Any) -> None:
        Monitor.on_message_in(self, tp, offset, message)
        m = self._metrics
        m.messages_received.inc()
        m.active_messages.inc()
        topic = tp.topic
        self._child("in", topic, lambda: m.messages_received_per_topics.labels(topic=topic)).inc()
        self._child(
            "offset",
            tp,
            lambda: m.messages_received_per_topics_partition.labels(
                topic=topic, partition=tp.partition
            ),
        ).set(offset)

    def on_stream_event_in(self, tp: Any, offset: int, stream: Any, event: Any) -> Any:
        state = Monitor.on_stream_event_in(self, tp, offset, stream, event)
        m = self._metrics
        m.total_events.inc()
        m.total_active_events.inc()
        child = self._stream_children.get(stream)
        if child is None:  # streams come and go with their actors: weakly held
            label = f"stream.{self._stream_label(stream)}.events"
            child = self._stream_children[stream] = m.total_events_per_stream.labels(stream=label)
        child.inc()
        return state

    def _table_op(self, table: Any, operation: str) -> Any:
        name = table.name
        return self._child(
            operation,
            name,
            lambda: self._metrics.table_operations.labels(
                table=f"table.{name}", operation=operation
            ),
        )

    def on_table_get(self, table: Any, key: Any) -> None:
        Monitor.on_table_get(self, table, key)
        self._table_op(table, self.KEYS_RETRIEVED).inc()

    def on_table_set(self, table: Any, key: Any, value: Any) -> None:
        Monitor.on_table_set(self, table, key, value)
        self._table_op(table, self.KEYS_UPDATED).inc()

    def on_table_del(self, table: Any, key: Any) -> None:
        Monitor.on_table_del(self, table, key)
        self._table_op(table, self.KEYS_DELETED).inc()

    def on_send_initiated(
        self, producer: Any, topic: str, message: Any, keysize: int, valsize: int
    ) -> Any:
        m = self._metrics
        self._child(
            "sent", topic, lambda: m.topic_messages_sent.labels(topic=f"topic.{topic}")
        ).inc()
        return Monitor.on_send_initiated(self, producer, topic, message, keysize, valsize)


# -- group membership: the coordinator's last accepted heartbeat -------------------------

HEARTBEAT_OK = "_enginedge_heartbeat_ok"


def observe_heartbeats() -> None:
    """Record on each coordinator the monotonic time of its last accepted heartbeat."""
    original = GroupCoordinator._do_heartbeat
    if getattr(original, "_enginedge", False):
        return

    async def _do_heartbeat(self: Any) -> bool:
        ok = bool(await original(self))
        if ok:  # accepted (also while the group rebalances: still a member)
            setattr(self, HEARTBEAT_OK, time.monotonic())
        return ok

    _do_heartbeat._enginedge = True  # type: ignore[attr-defined]
    GroupCoordinator._do_heartbeat = _do_heartbeat


def last_heartbeat_ok(coordinator: Any) -> float:
    """Monotonic time of the coordinator's last accepted heartbeat (0: none yet)."""
    return float(getattr(coordinator, HEARTBEAT_OK, 0.0))


def kafka_consumer(app: Any) -> Any | None:
    """The app's Faust consumer if it was created (``app.consumer`` would create it)."""
    return getattr(app, "_consumer", None)


def group_coordinator(app: Any) -> Any | None:
    """aiokafka's group coordinator of the app's consumer (looked up afresh: a
    restarted consumer has a new one), or None without a Kafka consumer."""
    thread = getattr(kafka_consumer(app), "_thread", None)
    kafka = getattr(thread, "_consumer", None)
    return getattr(kafka, "_coordinator", None)


# -- other private attributes read by the platform ---------------------------------------


def crash(app: Any, exc: BaseException) -> None:
    """Crash the app's service (``mode.Service._crash``: scheduled on the loop)."""
    app._crash(exc)


def committed_offsets(consumer: Any) -> dict[Any, int | None]:
    """The consumer's last committed offset per partition (Faust's own record)."""
    committed: dict[Any, int | None] = getattr(consumer, "_committed_offset", {})
    return committed


def started_producer(app: Any) -> Any | None:
    """The app's producer if it was created and started (not in an agent's test_context)."""
    producer = getattr(app, "_producer", None)
    return producer if producer is not None and producer.started else None


async def force_metadata_update(consumer: Any) -> None:
    """Refresh an aiokafka consumer's cluster metadata now (its client's private call)."""
    await consumer._client.force_metadata_update()


# -- RocksDB: a table whose keys live in the partition the table picks for them ----------


class KeyPlacedRocksStore(RocksStore):
    """RocksDB store that reads and writes a key only in the database of
    ``table.partition_for_key(key)`` (Faust's stock store follows the partition
    of the event being processed)."""

    def _partition(self, key: bytes) -> int:
        table: Any = self.table  # a key-placed table: partition_for_key never gives None
        partition: int = table.partition_for_key(key)
        return partition

    def _set(self, key: bytes, value: bytes | None) -> None:
        partition = self._partition(key)
        self._key_index[key] = partition
        self._db_for_partition(partition).put(key, value)

    def _get(self, key: bytes) -> bytes | None:
        value = self._db_for_partition(self._partition(key)).get(key)
        return None if value is None else bytes(value)

    def _del(self, key: bytes) -> None:
        self._db_for_partition(self._partition(key)).delete(key)

    def _contains(self, key: bytes) -> bool:
        return self._db_for_partition(self._partition(key)).get(key) is not None

    def _dbs_for_actives(self) -> Iterator[Any]:
        """Every assigned partition's database, opened if needed (iteration, sizes)."""
        topic = self.table.changelog_topic.get_topic_name()
        for tp in sorted(self.app.assignor.assigned_actives()):
            if tp.topic == topic:
                yield self._db_for_partition(tp.partition)


def raw_table_get(table: Any, key: bytes) -> bytes | None:
    """A raw-bytes RocksDB table's value for ``key``: the store's own read (the event's
    partition, else the key index), without the mapping layers above it (a sensor call,
    a ``KeyError`` round trip through ``__missing__`` for an absent key). Any other
    store: ``table.get``."""
    store = table.data
    value = store._get(key) if isinstance(store, RocksStore) else table.get(key)
    return None if value is None else bytes(value)


def new_key_placed_store(table: Any, store_class: type[Any] = KeyPlacedRocksStore) -> Any:
    """What a key-placed table's ``_new_store`` returns: ``store_class`` on its store URL."""
    return store_class(
        table._store or table.app.conf.store,
        table.app,
        table,
        table_name=table.name,
        key_type=table.key_type,
        key_serializer=table.key_serializer,
        value_type=table.value_type,
        value_serializer=table.value_serializer,
        loop=table.loop,
        options=table.options,
    )


def store_url(table: Any) -> str:
    """The table's store URL (its own, else the app's)."""
    return str(table._store or table.app.conf.store)


# -- installation --------------------------------------------------------------------------


def apply() -> None:
    """Install the class-level patches (idempotent)."""
    observe_heartbeats()
    if GuardedStreamIterator is not None:
        faust_streams._CStreamIterator = GuardedStreamIterator  # type: ignore[attr-defined]


#: Every internal used above: (owner, attribute, the parameters it must take or None
#: for an attribute that is not called). Checked by tests/unit/test_faust_patches.py.
INTERNALS: list[tuple[str, str, tuple[str, ...] | None]] = [
    ("faust.streams", "_CStreamIterator", None),
    ("faust.streams:Stream", "_c_aiter", ("self",)),
    ("faust._cython.streams:StreamIterator", "after", None),
    ("faust._cython.streams:StreamIterator", "consumer", None),
    ("faust._cython.streams:StreamIterator", "stream", None),
    ("faust._cython.streams:StreamIterator", "on_stream_event_out", None),
    ("faust._cython.streams:StreamIterator", "on_message_out", None),
    ("faust.transport.drivers.aiokafka:Consumer", "_new_offset", ("self", "tp")),
    ("faust.transport.drivers.aiokafka:Consumer", "seek_to_committed", ("self",)),
    ("faust.transport.drivers.aiokafka:Consumer", "on_partitions_revoked", ("self", "revoked")),
    ("faust.transport.drivers.aiokafka:Consumer", "ack", ("self", "message")),
    ("faust.transport.drivers.aiokafka:Consumer", "seek", ("self", "partition", "offset")),
    ("faust.transport.drivers.aiokafka:Consumer", "_thread", None),
    ("faust.transport.drivers.aiokafka:Consumer", "_acked", None),
    ("faust.transport.drivers.aiokafka:Consumer", "_acked_index", None),
    ("faust.transport.drivers.aiokafka:Consumer", "_committed_offset", None),
    ("faust.transport.drivers.aiokafka:Consumer", "_unacked_messages", None),
    ("faust.transport.drivers.aiokafka:Consumer", "_waiting_for_ack", None),
    ("faust.transport.drivers.aiokafka:Consumer", "_read_offset", None),
    ("faust.transport.drivers.aiokafka:AIOKafkaConsumerThread", "_consumer", None),
    ("faust.transport.drivers.aiokafka:Transport", "Consumer", None),
    ("faust:App", "_new_transport", ("self",)),
    ("faust:App", "_consumer", None),
    ("faust:App", "_producer", None),
    ("mode:Service", "_crash", ("self", "reason")),
    ("aiokafka.consumer.group_coordinator:GroupCoordinator", "_do_heartbeat", ("self",)),
    ("aiokafka.consumer.group_coordinator:GroupCoordinator", "member_id", None),
    ("aiokafka:AIOKafkaConsumer", "_coordinator", None),
    ("aiokafka:AIOKafkaConsumer", "_client", None),
    ("aiokafka.client:AIOKafkaClient", "force_metadata_update", ("self",)),
    ("faust.stores.rocksdb:Store", "_set", ("self", "key", "value")),
    ("faust.stores.rocksdb:Store", "_get", ("self", "key")),
    ("faust.stores.rocksdb:Store", "_del", ("self", "key")),
    ("faust.stores.rocksdb:Store", "_contains", ("self", "key")),
    ("faust.stores.rocksdb:Store", "_db_for_partition", ("self", "partition")),
    ("faust.stores.rocksdb:Store", "_dbs_for_actives", ("self",)),
    ("faust.stores.rocksdb:Store", "_key_index", None),
    ("faust.tables.table:Table", "_new_store", ("self",)),
    ("faust.tables.table:Table", "_store", None),
    ("faust.tables.table:Table", "partition_for_key", ("self", "key")),
    ("faust.sensors.prometheus:PrometheusMonitor", "_metrics", None),
    ("faust.sensors.prometheus:PrometheusMonitor", "_stream_label", ("self", "stream")),
    (
        "faust.sensors.prometheus:PrometheusMonitor",
        "on_message_in",
        ("self", "tp", "offset", "message"),
    ),
    (
        "faust.sensors.prometheus:PrometheusMonitor",
        "on_stream_event_in",
        ("self", "tp", "offset", "stream", "event"),
    ),
    ("faust.sensors.prometheus:PrometheusMonitor", "on_table_get", ("self", "table", "key")),
    (
        "faust.sensors.prometheus:PrometheusMonitor",
        "on_table_set",
        ("self", "table", "key", "value"),
    ),
    ("faust.sensors.prometheus:PrometheusMonitor", "on_table_del", ("self", "table", "key")),
    (
        "faust.sensors.prometheus:PrometheusMonitor",
        "on_send_initiated",
        ("self", "producer", "topic", "message", "keysize", "valsize"),
    ),
    ("faust.sensors.prometheus:PrometheusMonitor", "KEYS_RETRIEVED", None),
    ("faust.sensors.prometheus:PrometheusMonitor", "KEYS_UPDATED", None),
    ("faust.sensors.prometheus:PrometheusMonitor", "KEYS_DELETED", None),
]

apply()

"""Every place the platform relies on Faust, mode or aiokafka internals, in one package.

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
package is imported, which ``enginedge_streams.faust_app`` does. The patches live in
:mod:`.consumer`, :mod:`.prometheus`, :mod:`.kafka` and :mod:`.rocksdb`; this package
re-exports them. ``setup.cfg``
pins ``faust-streaming`` and ``aiokafka`` below the next release after the
versions tested (:data:`TESTED`); ``tests/unit/test_faust_patches.py`` checks
that every internal in :data:`INTERNALS` still exists with the expected
parameters, so an upgrade that moves one fails there first.
"""

from __future__ import annotations

import faust.streams as faust_streams

from enginedge_streams.faust_patches.consumer import (
    CommitGuardConsumer,
    GuardedStreamIterator,
    KafkaTransport,
    TransportApp,
    disable_read_offset_gaps,
)
from enginedge_streams.faust_patches.kafka import (
    HEARTBEAT_OK,
    committed_offsets,
    crash,
    force_metadata_update,
    group_coordinator,
    kafka_consumer,
    last_heartbeat_ok,
    observe_heartbeats,
    started_producer,
)
from enginedge_streams.faust_patches.prometheus import CachedPrometheusMonitor
from enginedge_streams.faust_patches.rocksdb import (
    KeyPlacedRocksStore,
    new_key_placed_store,
    raw_table_get,
    store_url,
)

__all__ = [
    "HEARTBEAT_OK",
    "INTERNALS",
    "TESTED",
    "CachedPrometheusMonitor",
    "CommitGuardConsumer",
    "GuardedStreamIterator",
    "KafkaTransport",
    "KeyPlacedRocksStore",
    "TransportApp",
    "apply",
    "committed_offsets",
    "crash",
    "disable_read_offset_gaps",
    "force_metadata_update",
    "group_coordinator",
    "kafka_consumer",
    "last_heartbeat_ok",
    "new_key_placed_store",
    "observe_heartbeats",
    "raw_table_get",
    "started_producer",
    "store_url",
]

#: The versions these patches were written and tested against (setup.cfg bounds).
TESTED = {"faust-streaming": "0.15.3", "aiokafka": "0.14.0"}


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

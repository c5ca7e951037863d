"""The orchestrator's tables: workflow requests (by request id) and worker instances.

Both are RocksDB-backed and changelogged. A key lives in the partition Kafka's
default partitioner gives it (``murmur2(key) % partitions``, as for a message
keyed by it): the orchestrator's drive topic is keyed by request id, so the
drive event of a request and its table row are in the same partition, and
Faust's router finds the owner of a request (``GET /orchestrate/{id}``) the
same way. Reads go to exactly one partition whatever event is being
processed; writes happen only inside stream iteration (the orchestrator's
agents), never from timers or web views.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import faust
from aiokafka.partitioner import murmur2

from tables.kv import KeyPartitionedRocksStore, KeyPartitionedTable

REQUESTS_TABLE = "orchestrator-requests"
INSTANCES_TABLE = "orchestrator-workers"


def kafka_partition(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner picks for ``key``."""
    return int((murmur2(key) & 0x7FFFFFFF) % partitions)


class _KafkaPlacedStore(KeyPartitionedRocksStore):
    def _partition(self, key: bytes) -> int:
        return kafka_partition(key, int(self.table.partitions or 1))

    def _dbs_for_actives(self) -> Iterator[Any]:
        """Every assigned partition's database, opened if needed (so iteration sees them all)."""
        topic = self.table.changelog_topic.get_topic_name()
        for tp in sorted(self.app.assignor.assigned_actives()):
            if tp.topic == topic:
                yield self._db_for_partition(tp.partition)


class KafkaPlacedTable(KeyPartitionedTable):
    def partition_for_key(self, key: Any) -> int:
        raw = key if isinstance(key, bytes) else str(key).encode()
        return kafka_partition(raw, int(self.partitions or 1))

    def _new_store(self) -> Any:
        return _KafkaPlacedStore(
            self._store or self.app.conf.store,
            self.app,
            self,
            table_name=self.name,
            key_type=self.key_type,
            key_serializer=self.key_serializer,
            value_type=self.value_type,
            value_serializer=self.value_serializer,
            loop=self.loop,
            options=self.options,
        )


def _create(app: faust.App, name: str, partitions: int, help_text: str) -> Any:
    table = KafkaPlacedTable(
        app,
        name=name,
        beacon=app.tables.beacon,
        default=None,
        partitions=partitions,
        key_type=bytes,
        value_type=bytes,
        help=help_text,
    )
    return app.tables.add(table)


def create_request_table(app: faust.App, *, partitions: int) -> Any:
    return _create(
        app, REQUESTS_TABLE, partitions, "Workflow requests: status, steps, results, by request id."
    )


def create_instance_table(app: faust.App, *, partitions: int) -> Any:
    return _create(
        app, INSTANCES_TABLE, partitions, "Worker instances seen on worker.status, by instance id."
    )


class FaustBytesStore:
    """The ``RequestStore`` / ``InstanceStore`` ports over one of these tables."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def get(self, key: str) -> bytes | None:
        raw = self.table.get(key.encode())
        return None if raw is None else bytes(raw)

    def put(self, key: str, value: bytes) -> None:
        self.table[key.encode()] = value

    def delete(self, key: str) -> None:
        if self.table.get(key.encode()) is not None:
            del self.table[key.encode()]

    def items(self) -> Iterator[tuple[str, bytes]]:
        for key, value in list(self.table.items()):
            if value is not None:
                yield bytes(key).decode(), bytes(value)

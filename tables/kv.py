"""A RocksDB-backed Faust table whose keys live in one partition chosen by the key itself.

Faust's stock table puts a key in the partition of the *event being processed*
and, inside a stream, reads only that partition's RocksDB. Our commands are
keyed by ``command_id``, so two commands about the same calendar or user land
on different partitions: the second would not see what the first wrote, and
after a rebuild from the changelog the older copy could win. This table
instead stores and publishes every key in ``crc32(key) % partitions`` — the
changelog partition and the local RocksDB partition always agree, reads go to
exactly one place, and a rebuild from the changelog replays each key in order.

State is therefore complete only on a replica that owns every partition (one
replica per worker type), which is how the scheduling and identity workers are
deployed; see their docs.

The partitioner is a parameter (:func:`key_partition` by default;
``tables/orchestrator.py`` passes Kafka's default partitioner so a table row
and the messages keyed like it share a partition), and so is the value type.
On a ``memory://`` store (wiring tests) the table is Faust's stock in-memory one.

:class:`FaustKeyValueStore` exposes the table through the platform's
``KeyValueStore`` port (``enginedge_streams.ports.key_value_store``), with an
in-memory sorted key index for prefix scans.
"""

from __future__ import annotations

import bisect
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import faust
from faust.tables.table import Table

from enginedge_streams.faust_patches import KeyPlacedRocksStore, new_key_placed_store, store_url
from enginedge_streams.ports.key_value_store import keys_with_prefix

__all__ = [
    "FaustKeyValueStore",
    "KeyPartitionedRocksStore",
    "KeyPartitionedTable",
    "Partitioner",
    "create_kv_table",
    "key_partition",
]

#: ``(key, partitions) -> partition``
Partitioner = Callable[[bytes, int], int]


def key_partition(key: bytes, partitions: int) -> int:
    return zlib.crc32(key) % partitions


#: The RocksDB store of key-placed tables (Faust's store internals: patched there only).
KeyPartitionedRocksStore = KeyPlacedRocksStore


class KeyPartitionedTable(Table):  # type: ignore[type-arg]  # bytes -> bytes
    """A Faust table whose changelog partition is a function of the key."""

    recoveries = 0  # bumped when Faust finishes restoring the table from its changelog
    partitioner: Partitioner = staticmethod(key_partition)  # set per table by create_kv_table

    async def on_recovery_completed(self, active_tps: Any, standby_tps: Any) -> None:
        await super().on_recovery_completed(active_tps, standby_tps)
        self.recoveries += 1

    def partition_for_key(self, key: Any) -> int:
        raw = key if isinstance(key, bytes) else str(key).encode()
        return int(self.partitioner(raw, int(self.partitions or 1)))

    def _new_store(self) -> Any:
        if not store_url(self).startswith("rocksdb"):
            return super()._new_store()  # memory:// in wiring tests: one process owns all
        return new_key_placed_store(self, KeyPartitionedRocksStore)


def create_kv_table(
    app: faust.App,
    name: str,
    *,
    partitions: int,
    help_text: str,
    partitioner: Partitioner = key_partition,
    value_type: type[Any] = bytes,
) -> Any:
    """Declare a key-partitioned table (bytes keys) on ``app``."""
    table = KeyPartitionedTable(
        app,
        name=name,
        beacon=app.tables.beacon,
        default=None,
        partitions=partitions,
        key_type=bytes,
        value_type=value_type,
        help=help_text,
    )
    table.partitioner = partitioner
    return app.tables.add(table)


class FaustKeyValueStore:
    """The ``KeyValueStore`` port (bytes in, bytes out) over a key-partitioned table.

    Writes must happen while a command is being processed (inside the agent's
    stream); reads work anywhere. ``start`` builds the sorted key index once
    the table is recovered.
    """

    def __init__(self, table: Any) -> None:
        self.table = table
        self._keys: list[str] = []
        self._loaded = False
        self._seen_recovery = -1
        self._generation = 0

    @property
    def generation(self) -> int:
        """Bumped on every rebuild of the key index (so caches above it know to reload)."""
        self._fresh()
        return self._generation

    async def start(self) -> None:
        self.reindex()

    async def stop(self) -> None:
        return None

    def reindex(self) -> None:
        self._seen_recovery = getattr(self.table, "recoveries", 0)
        self._keys = sorted(k.decode() for k, v in self.table.items() if v is not None)
        self._loaded = True
        self._generation += 1

    def _fresh(self) -> None:
        """Rebuild the index after (re)recovery: keys restored from the changelog appear."""
        if not self._loaded or getattr(self.table, "recoveries", 0) != self._seen_recovery:
            self.reindex()

    def get(self, key: str) -> bytes | None:
        raw = self.table.get(key.encode())
        return None if raw is None else bytes(raw)

    def put(self, key: str, value: bytes) -> None:
        self._fresh()
        self.table[key.encode()] = value
        i = bisect.bisect_left(self._keys, key)
        if i == len(self._keys) or self._keys[i] != key:
            self._keys.insert(i, key)

    def delete(self, key: str) -> None:
        self._fresh()
        if self.table.get(key.encode()) is not None:
            del self.table[key.encode()]
        i = bisect.bisect_left(self._keys, key)
        if i < len(self._keys) and self._keys[i] == key:
            del self._keys[i]

    def keys(self, prefix: str) -> list[str]:
        self._fresh()
        return keys_with_prefix(self._keys, prefix)

    def scan(self, prefix: str) -> Iterator[tuple[str, bytes]]:
        for key in self.keys(prefix):
            value = self.get(key)
            if value is not None:
                yield key, value

"""RocksDB: a table whose keys live in the partition the table picks for them, and a raw read."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from faust.stores.rocksdb import Store as RocksStore

log = logging.getLogger("enginedge.app")


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

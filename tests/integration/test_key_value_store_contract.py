"""One contract for the ``KeyValueStore`` port: the in-memory fake and the RocksDB table store.

The RocksDB side is the real ``KeyPartitionedRocksStore`` of ``tables/kv.py`` on a temp
directory (no broker: the store is used directly, as the table does). The process owns all
partitions, as the single-replica deployment does.
"""

from __future__ import annotations

import zlib

import faust
import pytest
from faust.assignor.client_assignment import ClientAssignment

from enginedge_streams.testing.key_value_store import InMemoryKeyValueStore
from tables.kv import FaustKeyValueStore, create_kv_table, key_partition

PARTITIONS = 4


def _rocks(tmp_path, name="kv-contract"):
    app = faust.App(
        f"contract-{tmp_path.name}", store="rocksdb://", datadir=str(tmp_path), autodiscover=False
    )
    table = create_kv_table(app, name, partitions=PARTITIONS, help_text="contract test")
    # This process owns every partition of the table's changelog (one replica).
    app.assignor._assignment = ClientAssignment(
        actives={table.changelog_topic_name: list(range(PARTITIONS))}, standbys={}
    )
    return table.data


@pytest.fixture(params=["memory", "rocksdb"])
def store(request, tmp_path):
    if request.param == "memory":
        return InMemoryKeyValueStore()
    return FaustKeyValueStore(_rocks(tmp_path))


def test_put_get_delete_and_prefix_scan(store):
    for k in ("ev:b:2", "ev:a:1", "ev:a:2", "cal:a", "ev:ab:1"):
        store.put(k, k.encode())
    assert store.get("ev:a:1") == b"ev:a:1" and store.get("missing") is None
    assert store.keys("ev:a:") == ["ev:a:1", "ev:a:2"]
    assert [k for k, _ in store.scan("ev:")] == ["ev:a:1", "ev:a:2", "ev:ab:1", "ev:b:2"]
    store.put("ev:a:1", b"new")
    assert store.get("ev:a:1") == b"new" and len(store.keys("")) == 5
    store.delete("ev:a:1")
    store.delete("ev:a:1")  # deleting a missing key is fine
    assert store.get("ev:a:1") is None and store.keys("ev:a:") == ["ev:a:2"]


def test_values_are_bytes_and_binary_safe(store):
    store.put("bin", bytes(range(256)))
    assert store.get("bin") == bytes(range(256)) and isinstance(store.get("bin"), bytes)


def test_rocksdb_places_each_key_in_its_own_partition_and_persists(tmp_path):
    raw = _rocks(tmp_path)
    kv = FaustKeyValueStore(raw)
    keys = [f"ev:cal{i}:e{i}" for i in range(40)]
    for k in keys:
        kv.put(k, k.encode())
    for k in keys:  # the key lives only in the database of crc32(key) % partitions
        home = zlib.crc32(k.encode()) % PARTITIONS
        assert key_partition(k.encode(), PARTITIONS) == home
        assert raw._db_for_partition(home).get(k.encode()) == k.encode()
        for other in set(range(PARTITIONS)) - {home}:
            assert raw._db_for_partition(other).get(k.encode()) is None
    for db in list(raw._dbs.values()):
        db.close()
    reopened = FaustKeyValueStore(_rocks(tmp_path))
    reopened.reindex()
    assert reopened.keys("ev:") == sorted(keys) and reopened.get(keys[7]) == keys[7].encode()

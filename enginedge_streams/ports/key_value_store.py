"""Durable key/value state of a worker (a key-partitioned RocksDB Faust table in production)."""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from typing import Protocol


class KeyValueStore(Protocol):
    """Bytes by string key, with ordered prefix listing. Writes only inside a command."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, value: bytes) -> None: ...

    def delete(self, key: str) -> None: ...

    def keys(self, prefix: str) -> list[str]:
        """The keys starting with ``prefix``, in ascending order."""
        ...

    def scan(self, prefix: str) -> Iterator[tuple[str, bytes]]:
        """``(key, value)`` for the keys starting with ``prefix``, in ascending key order."""
        ...


def keys_with_prefix(sorted_keys: Sequence[str], prefix: str) -> list[str]:
    """The keys of ``sorted_keys`` (ascending) that start with ``prefix``, in order."""
    i = bisect.bisect_left(sorted_keys, prefix)
    out = []
    while i < len(sorted_keys) and sorted_keys[i].startswith(prefix):
        out.append(sorted_keys[i])
        i += 1
    return out

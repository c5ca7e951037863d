"""The ``KeyValueStore`` port on a dict with a sorted key index (deterministic, no I/O)."""

from __future__ import annotations

import bisect
from collections.abc import Iterator

from enginedge_streams.ports.key_value_store import keys_with_prefix


class InMemoryKeyValueStore:
    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self._keys: list[str] = []
        self.writes = 0  # puts so far (a test can tell that nothing was written)

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def put(self, key: str, value: bytes) -> None:
        if key not in self.data:
            bisect.insort(self._keys, key)
        self.data[key] = bytes(value)
        self.writes += 1

    def delete(self, key: str) -> None:
        if self.data.pop(key, None) is not None:
            self._keys.remove(key)

    def keys(self, prefix: str) -> list[str]:
        return keys_with_prefix(self._keys, prefix)

    def scan(self, prefix: str) -> Iterator[tuple[str, bytes]]:
        for key in self.keys(prefix):
            yield key, self.data[key]

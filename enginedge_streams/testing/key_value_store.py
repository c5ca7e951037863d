"""The ``KeyValueStore`` port on a dict with a sorted key index (deterministic, no I/O)."""

from __future__ import annotations

import bisect
from collections.abc import Iterator


class InMemoryKeyValueStore:
    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self._keys: list[str] = []

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def put(self, key: str, value: bytes) -> None:
        if key not in self.data:
            bisect.insort(self._keys, key)
        self.data[key] = bytes(value)

    def delete(self, key: str) -> None:
        if self.data.pop(key, None) is not None:
            self._keys.remove(key)

    def keys(self, prefix: str) -> list[str]:
        i = bisect.bisect_left(self._keys, prefix)
        out = []
        while i < len(self._keys) and self._keys[i].startswith(prefix):
            out.append(self._keys[i])
            i += 1
        return out

    def scan(self, prefix: str) -> Iterator[tuple[str, bytes]]:
        for key in self.keys(prefix):
            yield key, self.data[key]

"""One asyncio lock per key, freed when nobody holds or waits for it.

Commands about one entity (an interview session, a conversation) run one at a
time inside a process while commands about other entities interleave. A lock
lives only while some command holds or awaits it, so a worker that sees
millions of keys keeps none of them in memory once idle.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """``async with locks.hold(key):`` (``locks(key)`` is the same)."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if self._users[key] == 0:
                del self._users[key]
                self._locks.pop(key, None)

    __call__ = hold

    def __len__(self) -> int:
        """How many keys have a lock right now (held or awaited)."""
        return len(self._locks)

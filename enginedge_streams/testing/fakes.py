"""In-memory adapters with the same behaviour as the real ones (for unit tests)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator

from enginedge_streams.ports.rate_limiter import RateDecision
from enginedge_streams.records import DeadLetter, Result, StatusRecord


class InMemoryStatusStore:
    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.writes: list[StatusRecord] = []
        self.fail_puts = False
        self.keep_history = True

    def get(self, command_id: str) -> StatusRecord | None:
        raw = self.data.get(command_id)
        return None if raw is None else StatusRecord.model_validate_json(raw)

    def put(self, record: StatusRecord) -> None:
        if self.fail_puts:
            raise OSError("status store unavailable")
        self.data[record.command.command_id] = record.model_dump_json().encode()
        if self.keep_history:
            self.writes.append(record.model_copy(deep=True))

    def non_terminal(self) -> Iterator[StatusRecord]:
        for raw in self.data.values():
            record = StatusRecord.model_validate_json(raw)
            if not record.status.terminal:
                yield record


class RecordingSink:
    def __init__(self) -> None:
        self.results: list[tuple[Result, str | None]] = []
        self.dead_letters: list[DeadLetter] = []
        self.resubmitted: list[tuple[str, bytes]] = []

    async def publish_result(
        self, result: Result, *, reply_to: str | None, encoded: bytes | None = None
    ) -> None:
        self.results.append((result, reply_to))

    async def publish_dead_letter(self, letter: DeadLetter) -> None:
        self.dead_letters.append(letter)

    async def resubmit(self, command_id: str, raw: bytes) -> None:
        self.resubmitted.append((command_id, raw))


class InMemoryCache:
    def __init__(self) -> None:
        self.data: dict[str, tuple[bytes, float | None]] = {}

    async def get(self, key: str) -> bytes | None:
        item = self.data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and time.monotonic() >= expires:
            del self.data[key]
            return None
        return value

    async def set(self, key: str, value: bytes, *, ttl_seconds: float | None = None) -> None:
        self.data[key] = (value, time.monotonic() + ttl_seconds if ttl_seconds else None)

    async def delete(self, key: str) -> None:
        self.data.pop(key, None)

    async def ping(self) -> bool:
        return True


class InMemoryRateLimiter:
    """Sliding-window log, like the Redis adapter, on the local monotonic clock."""

    def __init__(self) -> None:
        self.logs: dict[str, deque[float]] = {}

    async def acquire(
        self, key: str, *, limit: int, window_seconds: float, cost: int = 1
    ) -> RateDecision:
        now = time.monotonic()
        log = self.logs.setdefault(key, deque())
        while log and log[0] <= now - window_seconds:
            log.popleft()
        if len(log) + cost <= limit:
            log.extend([now] * cost)
            return RateDecision(True, limit - len(log), 0.0)
        if cost > limit:
            return RateDecision(False, limit - len(log), window_seconds)
        oldest = log[len(log) + cost - limit - 1]
        return RateDecision(False, limit - len(log), max(0.0, oldest + window_seconds - now))

"""One place that turns a bus call's outcome into the platform's errors."""

from __future__ import annotations

import time
from typing import Any

from enginedge_streams.errors import (
    DeadlineExceededError,
    DependencyUnavailableError,
    PermanentError,
)
from enginedge_streams.records import Status


async def call(
    bus: Any, worker: str, command_type: str, payload: dict[str, Any], timeout: float
) -> Any:
    """The result value of ``command_type`` on ``worker``; errors become retryable/permanent."""
    try:
        result = await bus.call(worker, command_type, payload, timeout=timeout)
    except DeadlineExceededError:
        raise DependencyUnavailableError(
            f"the {worker} worker did not answer {command_type} within {timeout:.0f}s",
            details={"worker": worker, "command_type": command_type},
        ) from None
    if result.status is Status.COMPLETED:
        return result.result
    error = result.error
    code = error.code if error else "UNKNOWN"
    message = f"{worker} {command_type} failed: {code}: {error.message if error else '?'}"
    if error is not None and (error.retryable or code == "DEADLINE_EXCEEDED"):
        raise DependencyUnavailableError(message, details={"worker": worker, "code": code})
    raise PermanentError(
        message, code="DEPENDENCY_FAILED", details={"worker": worker, "code": code}
    )


class BusWorkerProbe:
    """Is a worker type answering on the bus? (``system.ping``, cached for ``ttl`` seconds)."""

    def __init__(self, bus: Any, worker: str, *, timeout: float = 3.0, ttl: float = 30.0) -> None:
        self.bus = bus
        self.worker = worker
        self.timeout = timeout
        self.ttl = ttl
        self._known: tuple[float, bool] | None = None

    async def available(self) -> bool:
        now = time.monotonic()
        if self._known is not None and now - self._known[0] < self.ttl:
            return self._known[1]
        try:
            result = await self.bus.call(self.worker, "system.ping", {}, timeout=self.timeout)
            ok = result.status is Status.COMPLETED
        except Exception:
            ok = False
        self._known = (now, ok)
        return ok

    def forget(self) -> None:
        self._known = None

"""The ``BusCaller`` port on the platform's bus client (``enginedge_streams.client.BusClient``).

The one place where a callee's result becomes the caller's exception; the codes
are documented on the port (``enginedge_streams.ports.bus_caller``).
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from enginedge_streams.errors import (
    DeadlineExceededError,
    DependencyUnavailableError,
    PermanentError,
)
from enginedge_streams.records import Result, Status

DEPENDENCY_FAILED = "DEPENDENCY_FAILED"


class ResultBus(Protocol):
    """What the adapter needs of ``BusClient``: send a command, await its terminal result."""

    async def call(
        self, worker_type: str, command_type: str, payload: dict[str, Any], *, timeout: float
    ) -> Result: ...


def unwrap(result: Result, worker_type: str, command_type: str) -> Any:
    """The result payload of a COMPLETED result; the platform's exception otherwise."""
    if result.status is Status.COMPLETED:
        return result.result
    err = result.error
    code = err.code if err else "UNKNOWN"
    message = f"{worker_type} {command_type} failed: {code}: {err.message if err else '?'}"
    details = {"worker_type": worker_type, "command_type": command_type, "code": code}
    if err is not None and (err.retryable or code == "DEADLINE_EXCEEDED"):
        raise DependencyUnavailableError(message, details=details)
    raise PermanentError(message, code=DEPENDENCY_FAILED, details=details)


class KafkaBusCaller:
    """Cross-worker calls over Kafka; ``available`` caches each worker's ping for ``ttl`` s."""

    def __init__(self, bus: ResultBus, *, ttl: float = 30.0) -> None:
        self.bus = bus  # started by the container
        self.ttl = ttl
        self._known: dict[str, tuple[float, bool]] = {}

    async def call(
        self, worker_type: str, command_type: str, payload: dict[str, Any], *, timeout: float
    ) -> Any:
        try:
            result = await self.bus.call(worker_type, command_type, payload, timeout=timeout)
        except DeadlineExceededError:
            raise DependencyUnavailableError(
                f"the {worker_type} worker did not answer {command_type} within {timeout:.0f}s "
                "(is it running?)",
                details={"worker_type": worker_type, "command_type": command_type},
            ) from None
        return unwrap(result, worker_type, command_type)

    async def available(self, worker_type: str, *, timeout: float = 3.0) -> bool:
        now = time.monotonic()
        known = self._known.get(worker_type)
        if known is not None and now - known[0] < self.ttl:
            return known[1]
        try:
            result = await self.bus.call(worker_type, "system.ping", {}, timeout=timeout)
            ok = result.status is Status.COMPLETED
        except Exception:
            ok = False
        self._known[worker_type] = (now, ok)
        return ok

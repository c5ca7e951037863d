"""The ``BusCaller`` port on the platform's bus client (``enginedge_streams.client.BusClient``).

A callee's terminal result becomes a ``CallOutcome`` here (:func:`outcome_of`), and a failed
one the caller's exception through ``CallOutcome.unwrap``: the one mapping of codes,
documented on the port (``enginedge_streams.ports.bus_caller``).
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from enginedge_streams.errors import DeadlineExceededError, DependencyUnavailableError
from enginedge_streams.ports.bus_caller import DEADLINE_EXCEEDED, DEPENDENCY_FAILED, CallOutcome
from enginedge_streams.records import Command, Result, Status

__all__ = ["DEPENDENCY_FAILED", "KafkaBusCaller", "ResultBus", "outcome_of", "unwrap"]


class ResultBus(Protocol):
    """What the adapter needs of ``BusClient``: send a command, await its terminal result."""

    async def call(
        self, worker_type: str, command_type: str, payload: dict[str, Any], *, timeout: float
    ) -> Result: ...

    async def call_command(self, worker_type: str, command: Command, *, timeout: float) -> Result:
        """Send ``command`` as built and await its terminal result."""
        ...


def outcome_of(result: Result) -> CallOutcome:
    """A terminal result as a value."""
    if result.status is Status.COMPLETED:
        return CallOutcome.completed(result.result)
    err = result.error
    if err is None:
        return CallOutcome.failed("UNKNOWN", f"status {result.status.value}")
    return CallOutcome.failed(err.code, err.message, retryable=err.retryable)


def unwrap(result: Result, worker_type: str, command_type: str) -> Any:
    """The result payload of a COMPLETED result; the platform's exception otherwise."""
    return outcome_of(result).unwrap(worker_type, command_type)


def _no_answer(worker_type: str, command_type: str, timeout: float) -> str:
    return (
        f"the {worker_type} worker did not answer {command_type} within {timeout:g}s "
        "(is it running?)"
    )


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
                _no_answer(worker_type, command_type, timeout),
                details={
                    "worker_type": worker_type,
                    "command_type": command_type,
                    "code": DEADLINE_EXCEEDED,
                },
            ) from None
        return unwrap(result, worker_type, command_type)

    async def call_outcome(
        self, worker_type: str, command: Command, *, timeout: float
    ) -> CallOutcome:
        try:
            result = await self.bus.call_command(worker_type, command, timeout=timeout)
        except DeadlineExceededError:
            message = _no_answer(worker_type, command.command_type, timeout)
            return CallOutcome.failed(DEADLINE_EXCEEDED, message, retryable=True)
        return outcome_of(result)

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

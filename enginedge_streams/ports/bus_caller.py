"""Calls another worker over the bus: the result payload, or the callee's failure.

Two ways to ask, with one set of codes for every worker (see
``enginedge_streams.adapters.kafka_bus_caller``):

``call`` returns the callee's ``result`` and raises a failure as one of the platform's
exceptions:

* no answer before the deadline, or a retryable failure -> ``DependencyUnavailableError``
  (``DEPENDENCY_UNAVAILABLE``, retried by the error policy);
* a permanent failure -> ``PermanentError`` with code ``DEPENDENCY_FAILED``;
  ``details`` carry ``worker_type``, ``command_type`` and the callee's own ``code``.

``call_outcome`` sends a ``Command`` the caller built — with its own ``command_id`` (a
deterministic id makes a re-sent call idempotent: the callee re-publishes the stored result)
and ``correlation_id`` (the caller's command, for budgets and tracing) — and returns the
answer as a :class:`CallOutcome` value, never raising for the callee: for a caller to whom a
failed call is data (an agent shows a tool's error to the model). No answer before the
deadline is ``code="DEADLINE_EXCEEDED"``, retryable. ``CallOutcome.unwrap`` maps a failed
outcome to the exception ``call`` would have raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from enginedge_streams.errors import DependencyUnavailableError, PermanentError
from enginedge_streams.records import Command

DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
DEPENDENCY_FAILED = "DEPENDENCY_FAILED"


@dataclass(frozen=True)
class CallOutcome:
    """A callee's terminal answer as a value: ``ok`` and ``result``, or its error."""

    ok: bool
    result: Any = None
    code: str | None = None  # the callee's error code (``DEADLINE_EXCEEDED``: no answer)
    message: str = ""
    retryable: bool = False

    @classmethod
    def completed(cls, result: Any) -> CallOutcome:
        return cls(True, result)

    @classmethod
    def failed(cls, code: str, message: str, *, retryable: bool = False) -> CallOutcome:
        return cls(False, None, code, message, retryable)

    def unwrap(self, worker_type: str, command_type: str) -> Any:
        """The result when ``ok``; else the platform's exception (the one mapping of codes)."""
        if self.ok:
            return self.result
        code = self.code or "UNKNOWN"
        details = {"worker_type": worker_type, "command_type": command_type, "code": code}
        message = f"{worker_type} {command_type} failed: {code}: {self.message or '?'}"
        if self.retryable or code == DEADLINE_EXCEEDED:
            raise DependencyUnavailableError(message, details=details)
        raise PermanentError(message, code=DEPENDENCY_FAILED, details=details)


class BusCaller(Protocol):
    async def call(
        self, worker_type: str, command_type: str, payload: dict[str, Any], *, timeout: float
    ) -> Any:
        """The callee's ``result`` on COMPLETED; raises as described above otherwise."""
        ...

    async def call_outcome(
        self, worker_type: str, command: Command, *, timeout: float
    ) -> CallOutcome:
        """Send ``command`` as built (its id, correlation id...); its answer as a value."""
        ...

    async def available(self, worker_type: str, *, timeout: float = 3.0) -> bool:
        """Whether a worker of that type answers ``system.ping`` (never raises)."""
        ...

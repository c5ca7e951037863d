"""Calls another worker over the bus and returns its result payload.

A failure of the callee is raised as one of the platform's exceptions, with one
set of codes for every worker (see ``enginedge_streams.adapters.kafka_bus_caller``):

* no answer before the deadline, or a retryable failure -> ``DependencyUnavailableError``
  (``DEPENDENCY_UNAVAILABLE``, retried by the error policy);
* a permanent failure -> ``PermanentError`` with code ``DEPENDENCY_FAILED``;
  ``details`` carry ``worker_type``, ``command_type`` and the callee's own ``code``.
"""

from __future__ import annotations

from typing import Any, Protocol


class BusCaller(Protocol):
    async def call(
        self, worker_type: str, command_type: str, payload: dict[str, Any], *, timeout: float
    ) -> Any:
        """The callee's ``result`` on COMPLETED; raises as described above otherwise."""
        ...

    async def available(self, worker_type: str, *, timeout: float = 3.0) -> bool:
        """Whether a worker of that type answers ``system.ping`` (never raises)."""
        ...

"""The ``WorkerCaller`` port on the platform's bus client (cross-worker calls over Kafka)."""

from __future__ import annotations

from typing import Any

from enginedge_streams.errors import (
    DeadlineExceededError,
    DependencyUnavailableError,
    PermanentError,
    RetryableError,
)
from enginedge_streams.records import Status


class BusWorkerCaller:
    def __init__(self, bus: Any) -> None:
        self.bus = bus  # enginedge_streams.client.BusClient (started by the container)

    async def call(
        self, worker_type: str, command_type: str, payload: dict[str, Any], *, timeout: float
    ) -> Any:
        try:
            result = await self.bus.call(worker_type, command_type, payload, timeout=timeout)
        except DeadlineExceededError as exc:
            raise DependencyUnavailableError(
                f"{worker_type} did not answer {command_type} within {timeout:.0f}s "
                "(is the worker running?)",
                details=exc.details,
            ) from None
        if result.status is Status.COMPLETED:
            return result.result
        error = result.error
        code = error.code if error else "REMOTE_FAILED"
        message = f"{worker_type} {command_type} failed: {error.message if error else '?'}"
        details = {"worker_type": worker_type, **(error.details if error else {})}
        if error is not None and error.retryable:
            raise RetryableError(message, code=code, details=details)
        raise PermanentError(message, code=code, details=details)

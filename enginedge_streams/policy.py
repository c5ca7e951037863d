"""The one error policy of every worker: classify, retry with backoff, give up."""

from __future__ import annotations

import random
from dataclasses import dataclass

from enginedge_streams.errors import EnginEdgeError, RetryableError
from enginedge_streams.records import ErrorInfo

#: Built-in exceptions that are transient by nature.
TRANSIENT_TYPES: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    base_delay_s: float = 0.2
    max_delay_s: float = 10.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Delay before attempt ``attempt + 1``: exponential with full jitter.

        A ``Retry-After`` from the dependency is honoured (never shortened), but
        still capped at ``max_delay_s`` so a command cannot stall a worker.
        """
        ceiling = min(self.max_delay_s, self.base_delay_s * (2 ** (attempt - 1)))
        delay = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not crypto
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_delay_s))
        return delay

    def should_retry(self, info: ErrorInfo, attempt: int) -> bool:
        return info.retryable and attempt < self.max_attempts


def classify(exc: BaseException) -> ErrorInfo:
    """Turn any exception into the error record a FAILED result carries."""
    if isinstance(exc, EnginEdgeError):
        return ErrorInfo(
            code=exc.code, message=exc.message, retryable=exc.retryable, details=exc.details
        )
    if isinstance(exc, TRANSIENT_TYPES):
        return ErrorInfo(
            code="TRANSIENT_ERROR",
            message=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
            retryable=True,
        )
    return ErrorInfo(
        code="INTERNAL_ERROR",
        message=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
        retryable=False,
    )


def retry_after_of(exc: BaseException) -> float | None:
    return exc.retry_after if isinstance(exc, RetryableError) else None

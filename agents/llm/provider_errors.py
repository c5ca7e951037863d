"""Map a provider's HTTP failure to the platform's errors (shared by every SDK adapter).

429 -> ``RateLimitedError(retry_after=Retry-After)``; 408/409/5xx/529 and
timeouts -> ``RetryableError``; unreachable -> ``DependencyUnavailableError``;
401/403 -> ``PROVIDER_AUTH``; 404 -> ``MODEL_NOT_FOUND``; other 4xx ->
``PROVIDER_REJECTED`` (permanent). The platform's policy retries the retryable
ones with backoff, honouring ``retry_after``.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from enginedge_streams.errors import (
    DependencyUnavailableError,
    EnginEdgeError,
    PermanentError,
    RateLimitedError,
    RetryableError,
)
from enginedge_streams.records import utcnow


def retry_after_seconds(headers: Mapping[str, str] | Any) -> float | None:
    """Seconds from ``retry-after-ms`` / ``Retry-After`` (delta seconds or an HTTP date)."""
    if headers is None:
        return None
    get = headers.get
    ms = get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - utcnow()).total_seconds())


def status_error(
    provider: str, status: int, message: str, headers: Mapping[str, str] | Any = None
) -> EnginEdgeError:
    details = {"provider": provider, "status": status}
    text = f"{provider} answered HTTP {status}: {message[:500]}"
    if status == 429:
        retry_after = retry_after_seconds(headers)
        details["retry_after"] = retry_after
        return RateLimitedError(text, retry_after=retry_after, details=details)
    if status in (408, 409) or status >= 500:
        return RetryableError(
            text, code="PROVIDER_ERROR", retry_after=retry_after_seconds(headers), details=details
        )
    if status in (401, 403):
        return PermanentError(text, code="PROVIDER_AUTH", details=details)
    if status == 404:
        return PermanentError(text, code="MODEL_NOT_FOUND", details=details)
    return PermanentError(text, code="PROVIDER_REJECTED", details=details)


def timeout_error(provider: str, timeout_s: float) -> RetryableError:
    return RetryableError(
        f"{provider} did not answer within {timeout_s:g}s",
        code="PROVIDER_TIMEOUT",
        details={"provider": provider},
    )


def unreachable_error(provider: str, exc: BaseException) -> DependencyUnavailableError:
    return DependencyUnavailableError(
        f"cannot reach {provider}: {exc}", details={"provider": provider}
    )

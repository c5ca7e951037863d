"""One root exception and the error taxonomy the error policy works with.

* ``RetryableError`` — transient (a dependency is down, a rate limit, a timeout):
  the command is retried with backoff, then FAILED with ``retryable=True``.
* ``PermanentError`` — the command can never succeed as sent: FAILED at once.
* ``DecodeError`` — the message is not a command at all: it goes to the DLQ.
* ``ConfigError`` — a setting is missing or invalid: the worker does not start.
"""

from __future__ import annotations

from typing import Any


class EnginEdgeError(Exception):
    """Root of every error this project raises on purpose."""

    code = "INTERNAL_ERROR"
    retryable = False

    def __init__(
        self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = details or {}


class ConfigError(EnginEdgeError, ValueError):
    """A missing or invalid setting; raised at start, naming the variable."""

    code = "CONFIG_ERROR"


class PermanentError(EnginEdgeError):
    """The command cannot succeed as sent; retrying would not help."""

    code = "COMMAND_FAILED"


class ValidationError(PermanentError):
    """The payload does not match the command's schema."""

    code = "INVALID_PAYLOAD"


class NotFoundError(PermanentError):
    code = "NOT_FOUND"


class UnknownCommandError(PermanentError):
    code = "UNKNOWN_COMMAND_TYPE"


class LimitExceededError(PermanentError):
    """A size, count or quota limit was exceeded by the command itself."""

    code = "LIMIT_EXCEEDED"


class PayloadTooLargeError(PermanentError):
    """A command that does not fit on the bus, even with its blobs moved to the artifact store.

    Raised by the client before anything is sent (the CLI exits with code 2).
    """

    code = "PAYLOAD_TOO_LARGE"


class DeadlineExceededError(PermanentError):
    code = "DEADLINE_EXCEEDED"


class RetryableError(EnginEdgeError):
    """A transient failure: the error policy retries it with backoff."""

    code = "TRANSIENT_ERROR"
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, code=code, details=details)
        self.retry_after = retry_after


class RateLimitedError(RetryableError):
    code = "RATE_LIMITED"


class DependencyUnavailableError(RetryableError):
    code = "DEPENDENCY_UNAVAILABLE"


class DecodeError(EnginEdgeError):
    """The raw message cannot be decoded into a command envelope."""

    code = "UNDECODABLE"

    def __init__(
        self,
        message: str,
        *,
        command_id: str | None = None,
        details: dict[str, Any] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, details=details, code=code)
        self.command_id = command_id


# -- bounded error text: an error never echoes a whole offending value -------------------

#: Longest error message a result carries (characters); longer ones keep a prefix and the size.
MAX_MESSAGE_CHARS = 1000
#: Longest string inside error details.
MAX_DETAIL_CHARS = 300
#: Items kept of a list inside error details.
MAX_DETAIL_ITEMS = 50
#: Largest error details (bytes of JSON); bigger ones are replaced by a note with the size.
MAX_DETAILS_BYTES = 16_384


def bound_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text``, or about ``limit`` characters of it: its start, its total length and its end.

    The end is kept because messages often quote the value first and give the
    reason last (``'1+1+...' is too long``).
    """
    if len(text) <= limit:
        return text
    tail = limit // 4
    return f"{text[: limit - tail]} ...[cut: {len(text):,} characters in all]... {text[-tail:]}"


def bound_details(details: dict[str, Any]) -> dict[str, Any]:
    """Error details with long strings and lists cut, and the whole kept small."""
    import orjson

    def walk(value: Any, depth: int) -> Any:
        if isinstance(value, str):
            return bound_text(value, MAX_DETAIL_CHARS)
        if depth > 6:
            return "..."
        if isinstance(value, dict):
            items = list(value.items())
            out = {
                bound_text(str(k), MAX_DETAIL_CHARS): walk(v, depth + 1)
                for k, v in items[:MAX_DETAIL_ITEMS]
            }
            if len(items) > MAX_DETAIL_ITEMS:
                out["..."] = f"{len(items) - MAX_DETAIL_ITEMS} more keys"
            return out
        if isinstance(value, list | tuple):
            kept = [walk(v, depth + 1) for v in list(value)[:MAX_DETAIL_ITEMS]]
            if len(value) > MAX_DETAIL_ITEMS:
                kept.append(f"... {len(value) - MAX_DETAIL_ITEMS} more items")
            return kept
        return value

    bounded = walk(details, 0)
    try:
        size = len(orjson.dumps(bounded, default=str))
    except (TypeError, ValueError):
        return {"note": "details not serialisable"}
    if size > MAX_DETAILS_BYTES:
        return {
            "note": f"details of {size:,} bytes left out",
            "keys": sorted(map(str, details))[:20],
        }
    return dict(bounded)

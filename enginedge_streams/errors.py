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
        self, message: str, *, command_id: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.command_id = command_id

"""Structured JSON logs, one object per line, with secrets redacted.

Fields: ``timestamp``, ``level``, ``workerType``, ``commandId``,
``correlationId``, ``message`` and, where they apply, ``processingTime``,
``model``, ``tokensUsed`` (pass them with ``extra={...}``).
"""

from __future__ import annotations

import contextvars
import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import orjson

_command_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("command_id", default=None)
_correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "correlation_id", default=None
)

#: ``extra=`` keys copied into the JSON object.
EXTRA_FIELDS = (
    "processingTime",
    "model",
    "tokensUsed",
    "commandType",
    "status",
    "attempt",
    "errorCode",
    "topic",
    "partition",
    "offset",
    "event",
    "provider",
    "durationMs",
)

#: Patterns that look like credentials wherever they appear.
_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}"),  # JWT
    re.compile(
        r"(?i)((?:password|passwd|secret|api[_-]?key|token|authorization)[\"']?\s*[:=]\s*[\"']?)"
        r"[^\s\"',}]+"
    ),
]


class Redactor:
    """Removes known secret values and credential-looking strings from text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def add(self, *secrets: str) -> None:
        self.secrets = sorted(
            {*self.secrets, *(s for s in secrets if s and len(s) >= 4)}, key=len, reverse=True
        )

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, "***")
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "***", text)
        return text


REDACTOR = Redactor()


class JsonFormatter(logging.Formatter):
    def __init__(self, worker_type: str = "", redactor: Redactor | None = None) -> None:
        super().__init__()
        self.worker_type = worker_type
        self.redactor = redactor or REDACTOR

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message = f"{message}\n{self.formatException(record.exc_info)}"
        data: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "workerType": getattr(record, "workerType", None) or self.worker_type or None,
            "commandId": getattr(record, "commandId", None) or _command_id.get(),
            "correlationId": getattr(record, "correlationId", None) or _correlation_id.get(),
            "message": self.redactor(message),
            "logger": record.name,
        }
        for key in EXTRA_FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                data[key] = self.redactor(value) if isinstance(value, str) else value
        return orjson.dumps(data, default=str).decode()


@contextmanager
def command_context(command_id: str | None, correlation_id: str | None) -> Iterator[None]:
    t1 = _command_id.set(command_id)
    t2 = _correlation_id.set(correlation_id)
    try:
        yield
    finally:
        _command_id.reset(t1)
        _correlation_id.reset(t2)


def logging_config(worker_type: str, level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` mapping (also given to Faust's worker)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {"()": JsonFormatter, "worker_type": worker_type},
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            },
        },
        "root": {"handlers": ["stdout"], "level": level.upper()},
        "loggers": {
            "aiokafka": {"level": "WARNING"},
            "faust": {"level": level.upper()},
            "mode": {"level": "WARNING" if level.lower() != "debug" else "DEBUG"},
        },
    }


def configure(worker_type: str, level: str) -> None:
    import logging.config

    logging.config.dictConfig(logging_config(worker_type, level))

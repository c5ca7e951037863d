"""The wire contract: command and result records (JSON on Kafka).

These models are the single source of the JSON Schemas in ``docs/schemas/``
(``enginedge schemas``), so a client in any language can produce commands.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class Status(StrEnum):
    """Lifecycle: PENDING -> RUNNING -> COMPLETED | FAILED (RETRYING, DEAD_LETTERED)."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    RETRYING = "RETRYING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    DEAD_LETTERED = "DEAD_LETTERED"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({Status.COMPLETED, Status.FAILED, Status.DEAD_LETTERED})


class Command(BaseModel):
    """A request to a worker, keyed on Kafka by ``command_id``."""

    model_config = ConfigDict(extra="forbid", title="Command")

    command_id: str = Field(
        default_factory=new_id, min_length=1, max_length=200, description="Unique id; Kafka key."
    )
    command_type: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$",
        description="Dotted name, e.g. `nlp.analyze`.",
    )
    payload: dict[str, Any] = Field(
        default_factory=dict, description="Command-specific JSON object."
    )
    correlation_id: str | None = Field(None, max_length=200, description="Ties commands together.")
    reply_to: str | None = Field(
        None,
        max_length=249,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="Extra topic the result is also written to.",
    )
    created_at: datetime = Field(default_factory=utcnow)
    deadline: datetime | None = Field(None, description="Absolute time after which it is FAILED.")
    timeout_ms: int | None = Field(
        None, gt=0, description="Relative deadline from `created_at`, if `deadline` is unset."
    )
    attempt: int = Field(1, ge=1, description="Delivery attempt as seen by the producer.")
    schema_version: int = Field(SCHEMA_VERSION, ge=1, le=SCHEMA_VERSION)
    user_id: str | None = Field(None, max_length=200)
    tenant_id: str | None = Field(None, max_length=200)

    def effective_deadline(self, default_timeout_s: float) -> datetime:
        if self.deadline is not None:
            return self.deadline if self.deadline.tzinfo else self.deadline.replace(tzinfo=UTC)
        created = self.created_at if self.created_at.tzinfo else self.created_at.replace(tzinfo=UTC)
        if self.timeout_ms is not None:
            return created + timedelta(milliseconds=self.timeout_ms)
        return created + timedelta(seconds=default_timeout_s)


class ErrorInfo(BaseModel):
    model_config = ConfigDict(title="Error")

    code: str
    message: str
    retryable: bool = False
    details: dict[str, Any] = Field(default_factory=dict)


class Usage(BaseModel):
    """Resource use where it applies (LLM tokens, cost)."""

    model_config = ConfigDict(extra="allow", title="Usage")

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    cost_usd: float | None = None
    model: str | None = None


class Result(BaseModel):
    """The outcome of one command, keyed on Kafka by ``command_id``."""

    model_config = ConfigDict(title="Result")

    command_id: str
    correlation_id: str | None = None
    worker_type: str
    command_type: str
    status: Status
    result: Any | None = None
    error: ErrorInfo | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    processing_ms: float | None = None
    attempts: int = 0
    usage: Usage | None = None
    schema_version: int = SCHEMA_VERSION


class DeadLetter(BaseModel):
    """What the DLQ holds: the raw bytes and why they could not be processed."""

    model_config = ConfigDict(title="DeadLetter")

    worker_type: str
    reason: str
    code: str
    command_id: str | None = None
    raw_base64: str
    raw_key_base64: str | None = None
    topic: str
    partition: int | None = None
    offset: int | None = None
    dead_lettered_at: datetime = Field(default_factory=utcnow)


class StatusRecord(BaseModel):
    """What the status table stores per command id."""

    command: Command
    status: Status
    attempts: int = 0
    worker_type: str
    source_partition: int | None = None
    source_offset: int | None = None
    updated_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    progress: dict[str, Any] = Field(default_factory=dict)
    result: Result | None = None

    def view(self) -> dict[str, Any]:
        """The public shape served by ``GET /commands/{id}``."""
        data: dict[str, Any] = {
            "command_id": self.command.command_id,
            "command_type": self.command.command_type,
            "correlation_id": self.command.correlation_id,
            "worker_type": self.worker_type,
            "status": self.status.value,
            "attempts": self.attempts,
            "progress": self.progress,
            "updated_at": self.updated_at.isoformat(),
        }
        if self.result is not None:
            data["result"] = self.result.model_dump(mode="json")
        return data

"""The request record the orchestrator keeps per workflow request (one table row, JSON).

A request has one *assignment* per step: the worker type and command type it
runs, its status, and its tasks — one task (one command at a time, retried
with a new command id per attempt) or, for a fan-out step, one task per item.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from enginedge_streams.records import utcnow

#: The statuses a request or a step ends in.
TERMINAL = frozenset({"completed", "failed", "cancelled", "timed_out"})


class _Status(StrEnum):
    @property
    def terminal(self) -> bool:
        return self.value in TERMINAL


class RequestStatus(_Status):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"


class StepStatus(_Status):
    PENDING = "pending"  # dependencies not finished
    WAITING = "waiting"  # ready, but no live instance of its worker type (see `reason`)
    RUNNING = "running"  # command(s) sent
    RETRYING = "retrying"  # an attempt failed retryably; the next one is due at next_attempt_at
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"


class TaskState(BaseModel):
    """One command of a step (the step itself, or one fan-out item), across its attempts."""

    index: int | None = None
    status: StepStatus = StepStatus.PENDING
    attempts: int = 0
    command_id: str | None = None
    result: Any = None
    error: dict[str, Any] | None = None
    first_dispatched_at: datetime | None = None
    dispatched_at: datetime | None = None  # of the current attempt
    started_at: datetime | None = None  # as reported by the worker
    finished_at: datetime | None = None
    processing_ms: float | None = None
    next_attempt_at: datetime | None = None
    errors: list[dict[str, Any]] = Field(default_factory=list)  # earlier attempts' errors


class StepState(BaseModel):
    id: str
    worker_type: str
    command_type: str
    status: StepStatus = StepStatus.PENDING
    reason: str | None = None
    optional: bool = False
    fan_out: bool = False
    tasks: list[TaskState] = Field(default_factory=list)
    result: Any = None
    error: dict[str, Any] | None = None
    ready_at: datetime | None = None
    deadline: datetime | None = None
    finished_at: datetime | None = None

    @property
    def attempts(self) -> int:
        return sum(t.attempts for t in self.tasks)

    @property
    def command_id(self) -> str | None:
        if self.fan_out:
            return None
        return self.tasks[0].command_id if self.tasks else None

    def context(self) -> dict[str, Any]:
        """What ``steps.<id>`` shows to expressions."""
        return {
            "result": self.result,
            "status": self.status.value,
            "error": self.error,
            "attempts": self.attempts,
        }

    def view(self, *, results: bool = True) -> dict[str, Any]:
        started = [t.first_dispatched_at for t in self.tasks if t.first_dispatched_at]
        out: dict[str, Any] = {
            "id": self.id,
            "worker_type": self.worker_type,
            "command_type": self.command_type,
            "status": self.status.value,
            "reason": self.reason,
            "optional": self.optional,
            "attempts": self.attempts,
            "command_id": self.command_id,
            "ready_at": _iso(self.ready_at),
            "started_at": _iso(min(started)) if started else None,
            "finished_at": _iso(self.finished_at),
            "deadline": _iso(self.deadline),
            "error": self.error,
        }
        if started and self.finished_at:
            out["duration_ms"] = round((self.finished_at - min(started)).total_seconds() * 1000, 1)
        if self.fan_out:
            counts: dict[str, int] = {}
            for t in self.tasks:
                counts[t.status.value] = counts.get(t.status.value, 0) + 1
            out["items"] = {"total": len(self.tasks), **counts}
        else:
            task = self.tasks[0] if self.tasks else None
            if task is not None:
                out["worker_started_at"] = _iso(task.started_at)
                out["processing_ms"] = task.processing_ms
                out["next_attempt_at"] = _iso(task.next_attempt_at)
                if task.errors:
                    out["earlier_errors"] = task.errors
        if results:
            out["result"] = self.result
        return out


class WorkflowRequest(BaseModel):
    request_id: str
    workflow: str
    definition: dict[str, Any]  # the validated definition the request runs (a snapshot)
    digest: str
    input: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = None
    input_digest: str = ""
    user_id: str | None = None
    tenant_id: str | None = None
    status: RequestStatus = RequestStatus.PENDING
    steps: dict[str, StepState] = Field(default_factory=dict)
    output: Any = None
    error: dict[str, Any] | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    deadline: datetime
    seq: int = 0  # bumped with every published event
    start_command_id: str | None = None

    def view(self, *, results: bool = True, include_input: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "request_id": self.request_id,
            "workflow": self.workflow,
            "status": self.status.value,
            "idempotency_key": self.idempotency_key,
            "user_id": self.user_id,
            "tenant_id": self.tenant_id,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "deadline": _iso(self.deadline),
            "error": self.error,
            "steps": [s.view(results=results) for s in self.steps.values()],
        }
        if self.finished_at:
            out["duration_ms"] = round(
                (self.finished_at - self.created_at).total_seconds() * 1000, 1
            )
        if include_input:
            out["input"] = self.input
        if results:
            out["output"] = self.output
        return out


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None

"""Payloads of the orchestrator's commands (validated; JSON Schemas in docs/schemas)."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agents.orchestrator.definition import WORKFLOW_NAME

REQUEST_ID = r"^[A-Za-z0-9_-]{1,100}$"
MAX_INPUT_BYTES = 900_000  # hard cap; WORKFLOW_MAX_INPUT_BYTES sets the working limit
MAX_DEFINITION_BYTES = 200_000


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _json_size(value: Any) -> int:
    return len(orjson.dumps(value))


class StartWorkflow(_Payload):
    """`workflow.start`: run a named workflow (or an inline definition) on an input."""

    workflow: str | None = Field(
        None, pattern=WORKFLOW_NAME, examples=["resume-build"], description="A known workflow."
    )
    definition: dict[str, Any] | None = Field(
        None, description="An inline workflow (same format as the YAML files), validated first."
    )
    input: dict[str, Any] = Field(default_factory=dict, description="The workflow's input.")
    idempotency_key: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="The same key (per user and tenant) always returns the same request; "
        "its work is started once.",
    )
    timeout_seconds: float | None = Field(
        None, gt=0, le=604_800, description="Deadline of the request (default: the workflow's)."
    )

    @field_validator("input")
    @classmethod
    def _input_size(cls, value: dict[str, Any]) -> dict[str, Any]:
        if _json_size(value) > MAX_INPUT_BYTES:
            raise ValueError(f"the input is larger than {MAX_INPUT_BYTES:,} bytes of JSON")
        return value

    @field_validator("definition")
    @classmethod
    def _definition_size(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and _json_size(value) > MAX_DEFINITION_BYTES:
            raise ValueError(f"the definition is larger than {MAX_DEFINITION_BYTES:,} bytes")
        return value

    @model_validator(mode="after")
    def _one(self) -> StartWorkflow:
        if (self.workflow is None) == (self.definition is None):
            raise ValueError("give exactly one of `workflow` or `definition`")
        return self


class GetWorkflow(_Payload):
    """`workflow.get`: a request's status, steps (with timings) and results."""

    request_id: str = Field(pattern=REQUEST_ID)
    include_results: bool = Field(True, description="Include step results and the output.")
    include_input: bool = Field(False, description="Include the request's input.")


class CancelWorkflow(_Payload):
    """`workflow.cancel`: stop a request; steps not yet finished are cancelled."""

    request_id: str = Field(pattern=REQUEST_ID)
    reason: str = Field("cancelled by the caller", min_length=1, max_length=500)


class ListWorkflows(_Payload):
    """`workflow.list`: the workflows this orchestrator can run (and the unavailable ones)."""


class ListWorkers(_Payload):
    """`workers.list`: worker instances from their heartbeats (live; with include_gone all)."""

    include_gone: bool = Field(False, description="Also list missing and stopped instances.")
    worker_type: str | None = Field(None, max_length=100, description="Only this worker type.")

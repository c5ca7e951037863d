"""The workflow definition format (YAML or JSON): a DAG of steps, each one worker command.

See docs/workers/orchestrator.md for the format and the expression form of
payloads (``agents/orchestrator/expressions.py``). Validation against the
known workers, references and cycles is in ``validation.py``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

WORKFLOW_NAME = r"^[a-z][a-z0-9_-]{0,62}$"
STEP_ID = r"^[a-z][a-z0-9_]{0,62}$"  # usable unquoted in JMESPath: steps.<id>.result
#: What ``steps.<id>`` exposes to expressions.
STEP_FIELDS = ("result", "status", "error", "attempts")
MAX_STEPS = 100


class _Def(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StepDefaults(_Def):
    retries: int | None = Field(None, ge=0, le=20, description="Default: STEP_MAX_RETRIES.")
    timeout_seconds: float | None = Field(
        None, gt=0, le=86_400, description="Default: STEP_TIMEOUT_SECONDS."
    )


class StepDef(_Def):
    """One node of the DAG: a command sent to one worker type (or one per item with for_each)."""

    id: str = Field(pattern=STEP_ID, description="Unique in the workflow; `steps.<id>` in refs.")
    worker: str | dict[str, Any] = Field(
        description="Worker type (e.g. `latex`), or a `$ref` into the input."
    )
    command: str | dict[str, Any] = Field(
        description="Command type (e.g. `latex.compile`), or a `$ref` into the input."
    )
    payload: dict[str, Any] = Field(
        default_factory=dict, description="The command payload: JSON with $ref/$text/$literal."
    )
    needs: list[str] = Field(
        default_factory=list,
        max_length=MAX_STEPS,
        description="Explicit dependencies (steps referenced in expressions are added).",
    )
    for_each: str | None = Field(
        None,
        max_length=2_000,
        description="Fan-out: a JMESPath list; one command per item (`item`, `index` in refs).",
    )
    max_parallel: int | None = Field(
        None, ge=1, le=1_000, description="Fan-out: most items in flight at once."
    )
    aggregate: str | None = Field(
        None,
        max_length=2_000,
        description="Fan-in: JMESPath over `results` (item results in order) and `items`.",
    )
    on_item_error: Literal["fail", "skip"] = Field(
        "fail", description="Fan-out: a failed item fails the step, or is left out (null)."
    )
    optional: bool = Field(False, description="A failure of this step does not fail the request.")
    retries: int | None = Field(None, ge=0, le=20, description="Retries of retryable failures.")
    timeout_seconds: float | None = Field(
        None, gt=0, le=86_400, description="Deadline of the step (all attempts), from when ready."
    )
    description: str = Field("", max_length=1_000)


class WorkflowDef(_Def):
    """A workflow: named DAG of steps, optional input schema, deadline and output template."""

    name: str = Field(pattern=WORKFLOW_NAME)
    description: str = Field("", max_length=2_000)
    version: int = Field(1, ge=1)
    input_schema: dict[str, Any] | None = Field(
        None, description="JSON Schema the input must match (checked at workflow.start)."
    )
    timeout_seconds: float | None = Field(
        None,
        gt=0,
        le=604_800,
        description="Deadline of a request (default WORKFLOW_TIMEOUT_SECONDS).",
    )
    defaults: StepDefaults = Field(default_factory=StepDefaults)
    steps: list[StepDef] = Field(min_length=1, max_length=MAX_STEPS)
    output: Any = Field(
        None,
        description="Template of the request's output (default: the results of the steps "
        "nothing depends on).",
    )

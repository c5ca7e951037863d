"""Orchestrator settings (env vars, read once by the composition root)."""

from __future__ import annotations

from pydantic import Field

from enginedge_streams.settings import EnvSettings


class OrchestratorSettings(EnvSettings):
    workflows_dir: str = Field(
        "",
        description="Directory of custom workflow YAML files (`*.yaml`, `*.yml`), validated at "
        "start; empty: only the built-in workflows.",
    )
    step_max_retries: int = Field(
        3, ge=0, le=20, description="Default retries of a step whose command failed retryably."
    )
    step_retry_backoff_ms: int = Field(
        500,
        ge=0,
        le=600_000,
        description="First delay before a step retry (ms), doubled each time.",
    )
    step_retry_backoff_max_ms: int = Field(
        30_000, ge=0, le=3_600_000, description="Upper bound of one step retry delay (ms)."
    )
    step_timeout_seconds: float = Field(
        300.0, gt=0, le=86_400, description="Default deadline of a step (all its attempts)."
    )
    workflow_timeout_seconds: float = Field(
        900.0, gt=0, le=604_800, description="Default deadline of a whole workflow request."
    )
    workflow_max_fan_out: int = Field(
        200, ge=1, le=10_000, description="Most items one `for_each` step may fan out to."
    )
    workflow_max_input_bytes: int = Field(
        512_000, ge=1_000, le=900_000, description="Largest workflow input (JSON bytes)."
    )
    workflow_max_step_result_bytes: int = Field(
        256_000,
        ge=1_000,
        le=900_000,
        description="Largest result one step (or fan-out item) may keep in the request table.",
    )
    workflow_max_request_bytes: int = Field(
        900_000,
        ge=10_000,
        le=10_000_000,
        description="Largest request record (input, results, status); bigger fails the request. "
        "Keep it under the broker's message.max.bytes.",
    )
    workflow_allow_inline: bool = Field(
        True, description="Accept `definition` (an inline workflow) in `workflow.start`."
    )
    orchestrator_tick_seconds: float = Field(
        0.5, gt=0, le=60, description="How often deadlines and due retries are checked."
    )
    worker_missing_after_intervals: float = Field(
        3.0,
        gt=0,
        le=100,
        description="A worker instance is missing after this many of its heartbeat intervals "
        "without a heartbeat.",
    )
    worker_forget_seconds: float = Field(
        86_400.0,
        gt=0,
        description="Missing or stopped instances are dropped from the registry after this long.",
    )
    workflow_retention_hours: float = Field(
        168.0, gt=0, description="Finished requests older than this are purged from the table."
    )
    identity_jwks_url: str = Field(
        "",
        description="JWKS of the identity worker (e.g. http://127.0.0.1:3008/.well-known/"
        "jwks.json). Set: the orchestrator's HTTP API takes JWT access tokens verified with it; "
        "empty: the static bearer token API_TOKEN.",
    )
    jwt_issuer: str = Field(
        "enginedge-identity",
        description="Required `iss` of access tokens (as the identity worker issues them).",
    )
    jwt_audience: str = Field("enginedge", description="Required `aud` of access tokens.")
    jwks_cache_seconds: float = Field(
        300.0, gt=0, le=86_400, description="How long fetched signing keys are reused."
    )
    orchestrate_wait_seconds: float = Field(
        5.0,
        ge=0,
        le=60,
        description="How long `POST /orchestrate` waits for the request to be recorded before "
        "answering 202 (it answers `pending` after that).",
    )

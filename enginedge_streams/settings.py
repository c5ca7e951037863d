"""Platform settings: one typed object, read once from the environment.

Every field is documented with its environment variable and default; the
README's configuration table is generated from these descriptions
(``enginedge config --markdown``). Worker packages add their own settings
classes in ``agents/<worker>/settings.py`` the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from enginedge_streams.errors import ConfigError
from enginedge_streams.worker_types import default_port

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
COMPRESSIONS = ("lz4", "gzip", "zstd", "snappy", "none")

# ---- The bus's size budget (docs/configuration.md, "Size budget"): one place. ----
#: One Kafka record, uncompressed: producers' max_request_size, consumers' partition fetch size.
BUS_MAX_MESSAGE_BYTES = 1_048_576
#: Record-batch header room on the broker side (message.max.bytes = budget + this).
BATCH_OVERHEAD_BYTES = 1024
#: A command's value; leaves room for the key and record overhead within the budget.
MAX_COMMAND_BYTES = 1_000_000
#: A result's value (results also travel on reply_to topics and into the status table).
MAX_RESULT_BYTES = 900_000
#: Consumers' fetch_max_bytes (one fetch response over all partitions).
FETCH_MAX_BYTES = 52_428_800


def broker_message_max_bytes(budget: int = BUS_MAX_MESSAGE_BYTES) -> int:
    """The broker's ``message.max.bytes`` and the topics' ``max.message.bytes``."""
    return budget + BATCH_OVERHEAD_BYTES


def topic_size_config(budget: int = BUS_MAX_MESSAGE_BYTES) -> dict[str, str]:
    """Per-topic config of every topic this project creates (the same budget as the broker)."""
    return {"max.message.bytes": str(broker_message_max_bytes(budget))}


class EnvSettings(BaseSettings):
    """Base for every settings class: env vars named like the fields, upper case."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)


class Settings(EnvSettings):
    """Settings shared by every worker process."""

    worker_type: str = Field(
        "",
        description="Worker(s) this process runs: one type, a comma list, or `all` (local use). "
        "Required to start a worker.",
    )
    port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Web port (health, metrics, status). Default: the worker's port from the "
        "guide (llm 3001 ... news 3009, spacy 8001).",
    )
    web_host: str = Field("0.0.0.0", description="Interface the web server binds to.")  # noqa: S104
    kafka_brokers: str = Field(
        "127.0.0.1:9092", description="Comma-separated Kafka bootstrap servers (host:port)."
    )
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0", description="Redis URL for cache and limits."
    )
    log_level: str = Field("info", description="Log level: debug, info, warning, error.")
    max_concurrency: int = Field(
        4, ge=1, le=256, description="Commands processed concurrently per worker process."
    )
    health_check_interval: float = Field(
        30.0, gt=0, description="Seconds between dependency health checks and heartbeats."
    )
    topic_prefix: str = Field(
        "", description="Prefix for every topic and app id (isolates test runs or tenants)."
    )
    topic_partitions: int = Field(
        4, ge=1, le=1024, description="Partitions for the topics this project creates."
    )
    topic_replication_factor: int = Field(1, ge=1, description="Replication factor of topics.")
    data_dir: Path = Field(
        Path("var/data"), description="Directory for RocksDB table state (one subfolder per app)."
    )
    api_token: SecretStr | None = Field(
        None,
        description="Bearer token required by `POST /commands`. Unset: HTTP submission is refused.",
    )
    web_tables_enabled: bool = Field(
        False, description="Serve Faust's built-in `/table/` data view (off: it exposes data)."
    )
    retry_max_attempts: int = Field(
        3, ge=1, le=20, description="Attempts for a command failing with a retryable error."
    )
    retry_backoff_base_ms: int = Field(
        200, ge=1, description="First retry delay (ms), doubled each time."
    )
    retry_backoff_max_ms: int = Field(
        10_000, ge=1, description="Upper bound of one retry delay (ms)."
    )
    command_timeout_seconds: float = Field(
        300.0, gt=0, description="Deadline for commands that carry none of their own."
    )
    bus_max_message_bytes: int = Field(
        BUS_MAX_MESSAGE_BYTES,
        ge=65_536,
        description="The bus's size budget for one record (bytes): producers' "
        "`max_request_size` and consumers' `max_partition_fetch_bytes`. The broker's "
        "`message.max.bytes` and the topics' `max.message.bytes` are this plus "
        f"{BATCH_OVERHEAD_BYTES} bytes of batch overhead. MAX_COMMAND_BYTES and "
        "MAX_RESULT_BYTES must stay below it; anything bigger travels by artifact reference.",
    )
    kafka_compression: str = Field(
        "lz4",
        description="Compression of every producer (results, DLQ, tables, the bus client): "
        "lz4, gzip, zstd, snappy or none.",
    )
    max_command_bytes: int = Field(
        MAX_COMMAND_BYTES,
        ge=1024,
        description="Largest accepted command message (bytes, uncompressed); bigger: refused "
        "by the client (`PAYLOAD_TOO_LARGE`), or DLQ + FAILED result by the worker.",
    )
    max_result_bytes: int = Field(
        MAX_RESULT_BYTES,
        ge=1024,
        description=(
            "Largest result record (bytes); a bigger result is stored in the artifact store "
            "and returned by reference (FAILED RESULT_TOO_LARGE only if that fails)."
        ),
    )
    artifact_store: str = Field(
        "filesystem",
        description="Artifact store for claim checks (blobs too big for the bus): `filesystem` "
        "(ARTIFACT_STORE_DIR, one machine or a shared volume) or `s3` (any replica reads "
        "what another wrote).",
    )
    artifact_store_dir: Path = Field(
        Path("var/claim-checks"),
        validation_alias=AliasChoices("artifact_store_dir", "artifact_dir"),
        description="Root of the filesystem artifact store (`ARTIFACT_DIR`, its old name, "
        "is still read; deprecated).",
    )
    artifact_store_retention_hours: float = Field(
        72.0,
        gt=0,
        validation_alias=AliasChoices("artifact_store_retention_hours", "artifact_retention_hours"),
        description="Claim-check blobs, by-reference results and worker artifacts (PDFs) "
        "expire after this (`ARTIFACT_RETENTION_HOURS`, its old name, is still read; "
        "deprecated).",
    )
    artifact_store_max_total_mb: int = Field(
        2048,
        ge=0,
        validation_alias=AliasChoices("artifact_store_max_total_mb", "artifact_max_total_mb"),
        description="Size budget of the artifact store (MiB; the oldest are evicted first by "
        "its periodic purge; 0: none; `ARTIFACT_MAX_TOTAL_MB`, its old name, is still read; "
        "deprecated).",
    )
    claim_check_max_bytes: int = Field(
        64 * 1024 * 1024,
        ge=1024,
        description="Largest blob a client uploads or a worker reads by artifact reference.",
    )
    s3_endpoint_url: str | None = Field(
        None, description="S3-compatible endpoint (MinIO, Ceph...); unset: AWS S3."
    )
    s3_bucket: str = Field("enginedge-artifacts", description="Bucket of the S3 artifact store.")
    s3_prefix: str = Field("artifacts/", description="Key prefix inside the bucket.")
    s3_region: str = Field("us-east-1", description="Region of the S3 artifact store.")
    aws_access_key_id: SecretStr | None = Field(
        None, description="S3 access key id (unset: the SDK's default credential chain)."
    )
    aws_secret_access_key: SecretStr | None = Field(
        None, description="S3 secret access key (unset: the SDK's default credential chain)."
    )
    redrive_interval_seconds: float = Field(
        5.0,
        gt=0,
        description="How often non-terminal commands whose offset was committed are re-driven.",
    )
    status_retention_hours: float = Field(
        168.0, gt=0, description="Terminal command statuses older than this are purged."
    )
    broker_session_timeout: float = Field(
        60.0, gt=0, description="Kafka consumer session timeout (seconds)."
    )
    broker_heartbeat_interval: float = Field(
        3.0, gt=0, description="Kafka consumer heartbeat interval (seconds)."
    )
    broker_commit_interval: float = Field(2.8, gt=0, description="Seconds between offset commits.")
    producer_linger_ms: float = Field(
        5.0,
        ge=0,
        le=1000,
        description="How long the producer waits to batch results and changelog writes (ms).",
    )
    compute_workers: int | None = Field(
        None,
        ge=0,
        le=256,
        description="Child processes running CPU-heavy steps (parsing, expansion...) with a "
        "hard time limit. Default: the cores given to the worker (CPU affinity). `0`: run them "
        "on the event loop (no limit; for debugging and benchmarks only).",
    )
    compute_memory_limit_mb: int = Field(
        2048,
        ge=0,
        description="Address space a compute child may add to its warmed-up size (RLIMIT_AS) "
        "before a step fails with MEMORY_LIMIT_EXCEEDED. `0`: no cap.",
    )
    worker_plugins: str = Field(
        "",
        description="Extra worker types as `type=package.module` pairs, comma separated "
        "(each module has `register` and `COMMANDS`).",
    )

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.lower() not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return value.lower()

    @field_validator("kafka_compression", "artifact_store")
    @classmethod
    def _choice(cls, value: str, info: ValidationInfo) -> str:
        choices = COMPRESSIONS if info.field_name == "kafka_compression" else ("filesystem", "s3")
        if value.strip().lower() not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return value.strip().lower()

    @model_validator(mode="after")
    def _budget(self) -> Settings:
        for name in ("max_command_bytes", "max_result_bytes"):
            if getattr(self, name) > self.bus_max_message_bytes - 4096:
                raise ValueError(
                    f"{name.upper()} must leave 4096 bytes for the key and record overhead "
                    f"below BUS_MAX_MESSAGE_BYTES={self.bus_max_message_bytes}"
                )
        return self

    @property
    def compression_type(self) -> str | None:
        """The producers' ``compression_type`` (None: off)."""
        return None if self.kafka_compression == "none" else self.kafka_compression

    @field_validator("worker_type")
    @classmethod
    def _worker_type(cls, value: str) -> str:
        return value.strip().lower()

    @property
    def broker_url(self) -> str:
        hosts = [h.strip() for h in self.kafka_brokers.split(",") if h.strip()]
        return ";".join(f"kafka://{h}" for h in hosts)

    @property
    def bootstrap_servers(self) -> list[str]:
        return [h.strip() for h in self.kafka_brokers.split(",") if h.strip()]

    def web_port_for(self, worker_type: str) -> int:
        return self.port if self.port is not None else default_port(worker_type)

    def plugin_modules(self) -> dict[str, str]:
        """Parse WORKER_PLUGINS into {worker_type: module}."""
        plugins: dict[str, str] = {}
        for item in filter(None, (p.strip() for p in self.worker_plugins.split(","))):
            name, sep, module = item.partition("=")
            if not sep or not name.strip() or not module.strip():
                raise ConfigError(f"WORKER_PLUGINS: expected `type=package.module`, got {item!r}")
            plugins[name.strip()] = module.strip()
        return plugins


S = TypeVar("S", bound=EnvSettings)


def load(cls: type[S], **overrides: Any) -> S:
    """Read a settings class from the environment; errors name the variable."""
    try:
        return cls(**overrides)
    except PydanticValidationError as exc:
        problems = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]).upper() or "?"
            problems.append(f"{name}: {err['msg']}")
        raise ConfigError("Invalid configuration: " + "; ".join(problems)) from None


def secret_values(*objs: EnvSettings) -> list[str]:
    """Every non-empty SecretStr value held by the given settings objects."""
    values: list[str] = []
    for obj in objs:
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            if isinstance(value, SecretStr):
                raw = value.get_secret_value()
                if raw:
                    values.append(raw)
    return values

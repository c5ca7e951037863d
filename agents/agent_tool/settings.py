"""Agent tool worker settings (env vars, read once by the composition root).

Outbound HTTP (``ALLOWED_DOMAINS``, ``HTTP_ALLOW_LOOPBACK``, size/redirect caps)
is configured by the platform's ``HttpSettings``, shared with other workers.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from enginedge_streams.settings import EnvSettings


class AgentToolSettings(EnvSettings):
    tool_timeout_seconds: float = Field(
        30.0, gt=0, le=600, description="Longest one tool execution may run before it is cut off."
    )
    max_tool_executions_per_command: int = Field(
        10,
        ge=1,
        le=1000,
        description="Tool executions allowed per originating command (a batch, or every "
        "`tool.execute` sharing one correlation id, e.g. one agent run).",
    )
    rate_limit_per_tool: int = Field(
        60, ge=1, description="Executions per minute of each tool, across all replicas (Redis)."
    )
    tool_rate_limits: str = Field(
        "",
        description="Per-tool overrides of RATE_LIMIT_PER_TOOL as `name=N` pairs, comma "
        "separated (e.g. `http_request=20,calculator=600`).",
    )
    tool_retry_attempts: int = Field(
        2, ge=1, le=10, description="Attempts per tool execution when it fails transiently."
    )
    tool_cache_ttl_seconds: float = Field(
        300.0, ge=0, description="TTL of cached results of read-only tools (0 disables the cache)."
    )
    tool_sandbox_dir: Path = Field(
        Path("var/tool-sandbox"),
        description="Root directory of the `files` tool; paths outside it are refused.",
    )
    tool_files_max_bytes: int = Field(
        1_000_000, ge=1, description="Largest file the `files` tool reads or writes (bytes)."
    )
    tool_max_output_chars: int = Field(
        20_000, ge=100, description="Text returned by `http_request`/`web_page_text` is cut here."
    )
    tool_bus_timeout_seconds: float = Field(
        30.0,
        gt=0,
        description="Deadline of calls to other workers (`document_search`, `nlp_analyze`).",
    )
    tool_batch_concurrency: int = Field(
        4, ge=1, le=64, description="Parallel executions in one `tool.execute_batch`."
    )

    @field_validator("tool_rate_limits")
    @classmethod
    def _overrides(cls, value: str) -> str:
        for item in filter(None, (p.strip() for p in value.split(","))):
            name, sep, limit = item.partition("=")
            if not sep or not name.strip() or not limit.strip().isdigit() or int(limit) < 1:
                raise ValueError(f"expected `name=N` pairs with N >= 1, got {item!r}")
        return value

    def rate_limit_for(self, tool: str) -> int:
        for item in filter(None, (p.strip() for p in self.tool_rate_limits.split(","))):
            name, _, value = item.partition("=")
            if name.strip() == tool and value.strip().isdigit():
                return int(value.strip())
        return self.rate_limit_per_tool

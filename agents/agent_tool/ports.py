"""The tool worker's ports: a tool, what it may use, and the per-command execution budget.

Outbound HTTP and calls to other workers are the platform's ``HttpFetcher`` and ``BusCaller``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from enginedge_streams.ports.bus_caller import BusCaller
from enginedge_streams.ports.http_fetcher import HttpFetcher


@dataclass(frozen=True)
class ToolContext:
    """What a tool may know about the execution it serves."""

    command_id: str
    call_id: str
    remaining_seconds: float


class Tool(Protocol):
    """One registered tool. ``args_schema`` is a JSON Schema (draft 2020-12) object."""

    name: str
    description: str
    args_schema: dict[str, Any]
    read_only: bool  # no side effects
    cacheable: bool  # read-only and deterministic for a while: results cached with a TTL

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> Any:
        """Execute with already validated ``args``; return JSON-ready data."""
        ...


class ExecutionBudget(Protocol):
    """Counts executions per originating command, shared by every replica."""

    async def take(self, budget_key: str, execution_id: str, *, limit: int) -> tuple[bool, int]:
        """Record ``execution_id`` under ``budget_key``; returns (allowed, its 1-based position).

        Idempotent per ``execution_id``: the same execution keeps its position.
        """
        ...


@dataclass
class ToolDeps:
    """Everything a tool module's ``create`` may use."""

    http: HttpFetcher
    workers: BusCaller
    sandbox_dir: Path
    files_max_bytes: int = 1_000_000
    max_output_chars: int = 20_000
    bus_timeout_s: float = 30.0
    extra: dict[str, Any] = field(default_factory=dict)

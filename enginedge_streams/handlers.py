"""Command specs: how a worker declares its commands, and dependency injection.

A handler is a plain ``async def handle_x(cmd, *, port_a, port_b, ctx)``: it
receives the validated payload model and, by keyword, the ports it names. The
dispatcher binds those keywords once from the worker's dependency mapping, so
handlers stay free of Faust and of adapters.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from enginedge_streams.errors import ConfigError
from enginedge_streams.records import Command, Usage, utcnow

Handler = Callable[..., Awaitable[Any]]
ProgressCallback = Callable[[dict[str, Any]], None]


@dataclass
class CommandContext:
    """What a handler may know about the command it runs, besides its payload."""

    command: Command
    worker_type: str
    attempt: int
    deadline: datetime
    on_progress: ProgressCallback | None = None
    usage: Usage | None = None
    log_fields: dict[str, Any] = field(default_factory=dict)

    @property
    def command_id(self) -> str:
        return self.command.command_id

    @property
    def user_id(self) -> str | None:
        return self.command.user_id

    @property
    def tenant_id(self) -> str | None:
        return self.command.tenant_id

    def remaining_seconds(self) -> float:
        return (self.deadline - utcnow()).total_seconds()

    def progress(self, **fields: Any) -> None:
        """Record progress (e.g. ``pages_done=3``); visible in ``GET /commands/{id}``."""
        if self.on_progress is not None:
            self.on_progress(fields)

    def add_usage(self, **fields: Any) -> None:
        """Accumulate usage (tokens, cost) reported with the result."""
        current = self.usage.model_dump(exclude_none=True) if self.usage else {}
        for key, value in fields.items():
            if isinstance(value, int | float) and isinstance(current.get(key), int | float):
                current[key] = current[key] + value
            else:
                current[key] = value
        self.usage = Usage.model_validate(current)


@dataclass(frozen=True)
class CommandSpec:
    """One command type a worker answers."""

    command_type: str
    payload_model: type[BaseModel]
    handler: Handler
    description: str = ""
    read_only: bool = False
    sensitive: bool = False  # the result holds secrets (tokens): never served over HTTP

    def dependency_names(self) -> list[str]:
        params = inspect.signature(self.handler).parameters.values()
        return [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]


@dataclass(frozen=True)
class BoundHandler:
    spec: CommandSpec
    kwargs: Mapping[str, Any]
    wants_ctx: bool

    async def __call__(self, payload: BaseModel, ctx: CommandContext) -> Any:
        if self.wants_ctx:
            return await self.spec.handler(payload, ctx=ctx, **self.kwargs)
        return await self.spec.handler(payload, **self.kwargs)


def bind(specs: list[CommandSpec], dependencies: Mapping[str, Any]) -> dict[str, BoundHandler]:
    """Bind every spec's keyword ports from ``dependencies``; fail fast on a missing one."""
    bound: dict[str, BoundHandler] = {}
    for spec in specs:
        if spec.command_type in bound:
            raise ConfigError(f"command type {spec.command_type!r} registered twice")
        names = spec.dependency_names()
        missing = [n for n in names if n != "ctx" and n not in dependencies]
        if missing:
            raise ConfigError(
                f"handler for {spec.command_type!r} needs {', '.join(missing)}, "
                "which the worker does not provide"
            )
        kwargs = {n: dependencies[n] for n in names if n != "ctx"}
        bound[spec.command_type] = BoundHandler(spec, kwargs, "ctx" in names)
    return bound


def to_jsonable(value: Any) -> Any:
    """A handler's return value as JSON-ready data."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    return value


class Stopwatch:
    """Monotonic timing for processing_ms."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.start) * 1000.0

"""Diagnostic commands every worker answers (health checks through the bus)."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from enginedge_streams.handlers import CommandContext, CommandSpec
from enginedge_streams.version import __version__


@dataclass(frozen=True)
class WorkerInfo:
    worker_type: str
    instance_id: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    version: str = __version__
    started_monotonic: float = field(default_factory=time.monotonic)


class Ping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    echo: str | None = Field(None, max_length=10_000, description="Returned as is.")
    delay_ms: int = Field(0, ge=0, le=60_000, description="Wait this long before answering.")


async def handle_ping(cmd: Ping, *, worker_info: WorkerInfo, ctx: CommandContext) -> dict[str, Any]:
    if cmd.delay_ms:
        await asyncio.sleep(cmd.delay_ms / 1000.0)
    return {
        "pong": True,
        "echo": cmd.echo,
        "worker_type": worker_info.worker_type,
        "instance_id": worker_info.instance_id,
        "version": worker_info.version,
        "pid": os.getpid(),
        "uptime_s": round(time.monotonic() - worker_info.started_monotonic, 3),
        "attempt": ctx.attempt,
    }


SYSTEM_COMMANDS = [
    CommandSpec(
        "system.ping",
        Ping,
        handle_ping,
        "Liveness through the bus: answers with the worker's identity (optional delay).",
        read_only=True,
    ),
]

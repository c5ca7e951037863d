"""A test-only worker (loaded with WORKER_PLUGINS) whose handler has a side effect.

``ledger.apply`` records every execution in Redis (``HINCRBY executions``) and
applies its effect idempotently by command id (``HSETNX applied``), the way a
real handler makes an external write safe under at-least-once delivery; it also
counts the same effect without that protection (``HINCRBY effects``). Tests
count raw executions (re-runs after a crash), effects reached more than once
(what a non-idempotent handler would have applied twice) and applied effects.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import faust
from pydantic import BaseModel, Field

from enginedge_streams.container import Container
from enginedge_streams.handlers import CommandContext, CommandSpec
from enginedge_streams.worker import Worker


class Apply(BaseModel):
    run: str = Field(min_length=1)
    sleep_ms: int = Field(0, ge=0, le=120_000)
    raise_error: bool = False  # the handler raises (a poison command that passes validation)


class Ledger:
    def __init__(self, redis: Any) -> None:
        self.redis = redis

    async def record(self, run: str, command_id: str) -> int:
        await self.redis.run("HINCRBY", f"ledger:{run}:executions", command_id, 1)
        applied = await self.redis.run("HSETNX", f"ledger:{run}:applied", command_id, os.getpid())
        # The same effect, NOT idempotent: how many times a run got this far.
        await self.redis.run("HINCRBY", f"ledger:{run}:effects", command_id, 1)
        return int(applied)


async def handle_apply(cmd: Apply, *, ledger: Ledger, ctx: CommandContext) -> dict[str, Any]:
    if cmd.sleep_ms:
        await asyncio.sleep(cmd.sleep_ms / 1000)
    if cmd.raise_error:
        raise RuntimeError("ledger handler failure requested by the command")
    applied = await ledger.record(cmd.run, ctx.command_id)
    return {"applied": bool(applied), "pid": os.getpid()}


COMMANDS = [CommandSpec("ledger.apply", Apply, handle_apply, "Test side effect.")]


def register(app: faust.App, container: Container) -> Any:
    ledger = Ledger(container.redis())
    return Worker(app, container, "ledger").serve(COMMANDS, {"ledger": ledger})

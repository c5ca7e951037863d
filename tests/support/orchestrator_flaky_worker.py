"""A test-only worker for the orchestrator tests (loaded with WORKER_PLUGINS).

Its worker type is whatever name WORKER_PLUGINS gives it (``flaky=...`` and
``flaky2=...`` are two types). ``flaky.run`` counts every execution in Redis
(``HINCRBY orch:<run>:executions <command id>`` and ``orch:<run>:keys <key>``),
sleeps ``sleep_ms``, then fails with a *retryable* error for the first
``fail_times`` executions of its ``key`` (run the worker with
RETRY_MAX_ATTEMPTS=1 so each failure reaches the orchestrator), or with a
permanent one when ``fail_permanently``. It answers ``{"key", "value",
"attempt", "pid", "started", "finished"}``; ``value`` echoes the payload's.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import faust
from pydantic import BaseModel, ConfigDict, Field

from enginedge_streams.container import Container
from enginedge_streams.errors import PermanentError, RetryableError
from enginedge_streams.handlers import CommandContext, CommandSpec
from enginedge_streams.worker import Worker


class Run(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run: str = Field(min_length=1, max_length=100)
    key: str = Field("k", min_length=1, max_length=200)
    value: Any = None
    sleep_ms: int = Field(0, ge=0, le=120_000)
    fail_times: int = Field(0, ge=0, le=100)
    fail_permanently: bool = False


class Counter:
    def __init__(self, redis: Any) -> None:
        self.redis = redis

    async def count(self, run: str, key: str, command_id: str) -> int:
        await self.redis.run("HINCRBY", f"orch:{run}:executions", command_id, 1)
        return int(await self.redis.run("HINCRBY", f"orch:{run}:keys", key, 1))


async def handle_run(cmd: Run, *, counter: Counter, ctx: CommandContext) -> dict[str, Any]:
    started = time.time()
    n = await counter.count(cmd.run, cmd.key, ctx.command_id)
    if cmd.sleep_ms:
        await asyncio.sleep(cmd.sleep_ms / 1000)
    if cmd.fail_permanently:
        raise PermanentError(f"{cmd.key} fails permanently", code="FLAKY_PERMANENT")
    if n <= cmd.fail_times:
        raise RetryableError(f"{cmd.key}: failure {n} of {cmd.fail_times}", code="FLAKY")
    return {
        "key": cmd.key,
        "value": cmd.value,
        "attempt": n,
        "pid": os.getpid(),
        "started": started,
        "finished": time.time(),
    }


COMMANDS = [CommandSpec("flaky.run", Run, handle_run, "Test: count, sleep, fail N times.")]


def register(app: faust.App, container: Container) -> Any:
    worker_type = container.settings.worker_type or "flaky"
    return Worker(app, container, worker_type).serve(
        COMMANDS, {"counter": Counter(container.redis())}
    )

"""Helpers for the orchestrator's integration tests."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import redis.asyncio as aioredis

from tests.support.stack import REDIS_URL

FLAKY = "tests.support.orchestrator_flaky_worker"
PLUGINS = f"flaky={FLAKY},flaky2={FLAKY}"
TOKEN = "orchestrator-test-token"
TERMINAL = ("completed", "failed", "cancelled", "timed_out")


def flaky_step(sid: str, run: str, **payload: Any) -> dict[str, Any]:
    """A workflow step ``sid`` on the tests' flaky worker (``flaky.run`` records each run)."""
    return {
        "id": sid,
        "worker": "flaky",
        "command": "flaky.run",
        "payload": {"run": run, "key": sid, **payload},
    }


async def start(bus: Any, payload: dict[str, Any], **fields: Any) -> dict[str, Any]:
    result = await bus.call("orchestrator", "workflow.start", payload, timeout=60, **fields)
    assert result.status.value == "COMPLETED", result.error
    return result.result


async def get(bus: Any, rid: str) -> dict[str, Any]:
    result = await bus.call("orchestrator", "workflow.get", {"request_id": rid}, timeout=30)
    assert result.status.value == "COMPLETED", result.error
    return result.result


async def wait_for(bus: Any, rid: str, until: Any, timeout: float = 60.0) -> dict[str, Any]:
    """Poll workflow.get until ``until(view)`` (or a terminal status) holds."""
    deadline = time.monotonic() + timeout
    view: dict[str, Any] = {}
    while time.monotonic() < deadline:
        view = await get(bus, rid)
        if until(view):
            return view
        await asyncio.sleep(0.25)
    raise AssertionError(f"condition not met in {timeout}s: {summary(view)}")


def summary(view: dict[str, Any]) -> str:
    """A short account of a workflow: its status and each step's status and error."""
    lines = [f"workflow {view.get('workflow')} {view.get('status')}: {view.get('error')}"]
    for s in view.get("steps", []):
        error = s.get("error")
        lines.append(f"  {s.get('id')}: {s.get('status')} {str(error)[:300] if error else ''}")
    return "\n".join(lines)


async def finished(bus: Any, rid: str, timeout: float = 60.0) -> dict[str, Any]:
    return await wait_for(bus, rid, lambda v: v["status"] in TERMINAL, timeout)


def step(view: dict[str, Any], sid: str) -> dict[str, Any]:
    return next(s for s in view["steps"] if s["id"] == sid)


async def executions(run: str) -> dict[str, int]:
    """Command id -> how many times the flaky worker ran it."""
    r = aioredis.Redis.from_url(REDIS_URL)
    try:
        raw = await r.hgetall(f"orch:{run}:executions")
        return {k.decode(): int(v) for k, v in raw.items()}
    finally:
        await r.aclose()

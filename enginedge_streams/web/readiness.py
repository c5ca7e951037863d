"""``GET /ready``'s checks: Kafka membership, the worker's components, its dependencies."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from enginedge_streams.runtime import WorkerRuntime


async def readiness(runtime: WorkerRuntime) -> tuple[bool, dict[str, Any]]:
    checks: dict[str, Any] = {}
    app = runtime.app
    assigned = len(runtime.assignment())
    kafka_ok = runtime.started.is_set() and not app.rebalancing
    checks["kafka"] = {
        "ok": kafka_ok,
        "assigned_partitions": assigned,
        "detail": "rebalancing" if app.rebalancing else ("starting" if not kafka_ok else "joined"),
    }
    checks["components"] = {
        "ok": runtime.start_error is None and runtime.started.is_set(),
        "detail": runtime.start_error or ("started" if runtime.started.is_set() else "starting"),
    }
    for name, check in runtime.container.readiness.items():
        try:
            ok, detail = await asyncio.wait_for(check(), timeout=3.0)
        except Exception as exc:
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        checks[name] = {"ok": ok, "detail": detail}
    return all(c["ok"] for c in checks.values()), checks

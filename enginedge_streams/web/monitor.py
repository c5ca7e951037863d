"""The monitoring page every worker serves: ``GET /monitor`` (HTML) and ``GET /monitor/data``.

The page is one self-contained HTML document (no external assets, so it works
offline and under a strict Content-Security-Policy) whose script fetches
``monitor/data`` every few seconds (``?refresh=N``, 1-60 s, default 3) and
redraws: the worker and its liveness/readiness checks, every worker instance of
the deployment seen on the heartbeat topic (:mod:`enginedge_streams.web.fleet`)
with its health, counters, consumer lag per partition, the DLQ count, commands
in flight, recent commands with status and duration, and failures with their
error. Everything is drawn with
``textContent`` (never ``innerHTML``), so error messages cannot inject markup.
"""

from __future__ import annotations

import base64
import hashlib
import time
from importlib import resources
from typing import TYPE_CHECKING, Any

from faust import web
from mode import Service

from enginedge_streams.heartbeat import status_topic
from enginedge_streams.records import utcnow
from enginedge_streams.topics import app_id
from enginedge_streams.web.fleet import FleetState, FleetWatcher, heartbeat_consumer
from enginedge_streams.web.readiness import readiness
from enginedge_streams.worker_types import DESCRIPTIONS

if TYPE_CHECKING:
    from enginedge_streams.runtime import WorkerRuntime

RECENT_LIMIT = 50
FAILURE_LIMIT = 20
MESSAGE_CHARS = 500
STATUSES = ("COMPLETED", "FAILED", "DEAD_LETTERED")


def _counter(runtime: WorkerRuntime, name: str, **labels: str) -> int:
    value = runtime.metrics.registry.get_sample_value(
        name, {"worker_type": runtime.worker_type, **labels}
    )
    return int(value or 0)


def _row(entry: dict[str, Any]) -> dict[str, Any]:
    error = entry.get("error")
    if isinstance(error, dict):
        error = {
            "code": error.get("code"),
            "message": str(error.get("message") or "")[:MESSAGE_CHARS],
            "retryable": bool(error.get("retryable")),
        }
    return {
        "command_id": entry.get("command_id"),
        "command_type": entry.get("command_type"),
        "status": entry.get("status"),
        "processing_ms": entry.get("processing_ms"),
        "finished_at": entry.get("finished_at"),
        "error": error,
    }


def _in_flight(runtime: WorkerRuntime) -> list[dict[str, Any]]:
    rows = []
    for command_id in sorted(runtime.processor.in_flight):
        record = runtime.processor.lookup(command_id)
        rows.append(
            {
                "command_id": command_id,
                "command_type": record.command.command_type if record else None,
                "status": record.status.value if record else "RUNNING",
                "attempts": record.attempts if record else None,
                "started_at": record.started_at.isoformat()
                if record and record.started_at
                else None,
            }
        )
    return rows


def _fleet(runtime: WorkerRuntime, fleet: FleetState | None) -> dict[str, Any]:
    if fleet is None:
        return {"status": "unknown", "detail": "not watched", "workers": []}
    view = fleet.view(utcnow())
    for row in view["workers"]:
        row["self"] = row["instance_id"] == runtime.info.instance_id
    return view


async def snapshot(runtime: WorkerRuntime, fleet: FleetState | None = None) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready data (``GET /monitor/data``)."""
    ready, checks = await readiness(runtime)
    recent = [_row(e) for e in reversed(runtime.processor.recent)]
    failures = [r for r in recent if r["status"] in ("FAILED", "DEAD_LETTERED")]
    lag = runtime.consumer_lag()
    settings = runtime.container.settings
    return {
        "generatedAt": utcnow().isoformat(),
        "worker": {
            "workerType": runtime.worker_type,
            "description": DESCRIPTIONS.get(runtime.worker_type, runtime.worker_type),
            "instanceId": runtime.info.instance_id,
            "version": runtime.info.version,
            "port": settings.web_port_for(runtime.worker_type),
            "uptimeSeconds": round(time.monotonic() - runtime.info.started_monotonic, 1),
            "topics": {
                "requests": runtime.topics.requests,
                "results": runtime.topics.results,
                "dlq": runtime.topics.dlq,
            },
        },
        "health": {"status": "ok", "started": runtime.started.is_set()},
        "readiness": {"ready": ready, "checks": checks},
        "fleet": _fleet(runtime, fleet),
        "commands": {
            "processed": runtime.processor.processed,
            "inFlight": _in_flight(runtime),
            "byStatus": {s: _counter(runtime, "worker_commands_total", status=s) for s in STATUSES},
            "recent": recent[:RECENT_LIMIT],
        },
        "failures": failures[:FAILURE_LIMIT],
        "dlq": {
            "count": _counter(runtime, "worker_dead_letters_total"),
            "topic": runtime.topics.dlq,
        },
        "lag": {
            "total": sum(lag.values()),
            "partitions": [
                {"topic": topic, "partition": partition, "lag": value}
                for (topic, partition), value in sorted(lag.items())
            ],
        },
    }


def _asset(name: str) -> str:
    """A file of the page (package data in ``monitor_assets/``, checked into the wheel)."""
    return (
        resources.files("enginedge_streams.web")
        .joinpath("monitor_assets", name)
        .read_text(encoding="utf-8")
    )


_STYLE = _asset("monitor.css")
_SCRIPT = _asset("monitor.js")
_BODY = _asset("monitor.html")


def _sha256(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


PAGE = _BODY.replace("{style}", _STYLE).replace("{script}", _SCRIPT)
#: Only the page's own inline style and script (by hash) and same-origin fetches are allowed.
CSP = (
    "default-src 'none'; "
    f"script-src {_sha256(_SCRIPT)}; "
    f"style-src {_sha256(_STYLE)}; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def install_monitor(runtime: WorkerRuntime) -> None:
    """Add ``GET /monitor`` and ``GET /monitor/data`` to the worker's web server, and the
    heartbeat watcher behind its Workers panel (started and stopped with the app)."""
    app = runtime.app
    settings = runtime.container.settings
    fleet = FleetState()
    watcher = FleetWatcher(
        fleet,
        topic=status_topic(settings.topic_prefix),
        partitions=settings.topic_partitions,
        consumer_factory=lambda: heartbeat_consumer(
            settings.bootstrap_servers,
            f"{app_id(runtime.worker_type, settings.topic_prefix)}-monitor",
        ),
    )

    class FleetWatch(Service):
        async def on_start(self) -> None:
            watcher.start()

        async def on_stop(self) -> None:
            await watcher.stop()

    app.service(FleetWatch)

    @app.page("/monitor")
    async def monitor_page(self: web.View, request: web.Request) -> web.Response:
        return self.html(PAGE, headers=dict(HEADERS))

    @app.page("/monitor/data")
    async def monitor_data(self: web.View, request: web.Request) -> web.Response:
        return self.json(await snapshot(runtime, fleet), headers={"Cache-Control": "no-store"})

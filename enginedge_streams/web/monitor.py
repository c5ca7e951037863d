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
from typing import TYPE_CHECKING, Any

from faust import web
from mode import Service

from enginedge_streams.heartbeat import status_topic
from enginedge_streams.records import utcnow
from enginedge_streams.topics import app_id
from enginedge_streams.web.fleet import FleetState, FleetWatcher, heartbeat_consumer
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
    from enginedge_streams.web.views import readiness  # views installs this module

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


_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:12px 20px;display:flex;gap:16px;align-items:baseline;
flex-wrap:wrap}
header h1{font-size:18px;margin:0}
main{padding:16px 20px;display:grid;gap:16px;
grid-template-columns:repeat(auto-fit,minmax(420px,1fr))}
section{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:10px 14px}
section.wide{grid-column:1/-1}
h2{font-size:15px;margin:4px 0 8px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:3px 6px;border-bottom:1px solid #eef0f4;vertical-align:top}
th{font-weight:600;color:#5a6275}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.ok,.COMPLETED{background:#d7f5dd;color:#126b28}
.bad,.FAILED,.DEAD_LETTERED{background:#fde0e0;color:#a11919}
.RUNNING,.RETRYING,.PENDING{background:#fff3cd;color:#7a5a00}
.healthy,.idle{background:#d7f5dd;color:#126b28}
.stale{background:#fde0e0;color:#a11919}
.unknown,.starting,.busy,.stopping,.stopped{background:#fff3cd;color:#7a5a00}
.stats{display:flex;gap:18px;flex-wrap:wrap}
.stat b{display:block;font-size:22px}
#stale{color:#a11919;font-weight:600}
.muted{color:#8a91a3}
footer{padding:0 20px 16px}
"""

_SCRIPT = """
(function () {
  "use strict";
  var params = new URLSearchParams(window.location.search);
  var refresh = Math.min(60, Math.max(1, Number(params.get("refresh")) || 3));
  function $(id) { return document.getElementById(id); }
  function str(value) { return value === null || value === undefined ? "" : String(value); }
  function text(id, value) { $(id).textContent = str(value); }
  function badge(label, cls) {
    var span = document.createElement("span");
    span.className = "badge " + cls;
    span.textContent = label;
    return span;
  }
  function cell(tr, value, cls) {
    var td = document.createElement("td");
    if (value instanceof Node) { td.appendChild(value); } else { td.textContent = str(value); }
    if (cls) { td.className = cls; }
    tr.appendChild(td);
    return td;
  }
  function fill(id, rows, build, empty) {
    var body = $(id).querySelector("tbody");
    body.replaceChildren();
    rows.forEach(function (row) {
      var tr = document.createElement("tr");
      build(tr, row);
      body.appendChild(tr);
    });
    if (!rows.length) {
      var tr = document.createElement("tr");
      var td = cell(tr, empty, "muted");
      td.colSpan = $(id).querySelectorAll("thead th").length;
      body.appendChild(tr);
    }
  }
  function time(iso) {
    return iso ? iso.replace("T", " ").replace(/\\.\\d+/, "").replace("+00:00", "Z") : "";
  }
  function ms(value) { return typeof value === "number" ? value.toFixed(1) : ""; }
  function state(ok, yes, no) { return badge(ok ? yes : no, ok ? "ok" : "bad"); }
  function render(data) {
    var w = data.worker;
    text("worker-type", w.workerType);
    text("worker-description", w.description);
    text("instance", [w.instanceId, "v" + w.version, "port " + w.port,
                      "up " + Math.round(w.uptimeSeconds) + " s"].join(" \\u00b7 "));
    var healthy = data.health.status === "ok";
    $("health").replaceChildren(state(healthy, "healthy", "unhealthy"));
    $("ready").replaceChildren(state(data.readiness.ready, "ready", "not ready"));
    fill("checks", Object.keys(data.readiness.checks).sort(), function (tr, name) {
      var check = data.readiness.checks[name];
      var detail = str(check.detail);
      if (check.assigned_partitions !== undefined) {
        detail += " (" + check.assigned_partitions + " partitions)";
      }
      tr.dataset.check = name;
      cell(tr, name);
      cell(tr, state(check.ok, "ok", "failing"));
      cell(tr, detail);
    }, "no checks");
    var f = data.fleet;
    $("fleet-status").replaceChildren(badge(f.status === "ok" ? "live" : "unknown",
                                            f.status === "ok" ? "ok" : "unknown"));
    text("fleet-detail", f.detail);
    fill("fleet", f.workers, function (tr, w) {
      tr.dataset.instanceId = w.instance_id;
      tr.dataset.workerType = w.worker_type;
      tr.dataset.health = w.health;
      cell(tr, w.worker_type);
      cell(tr, w.instance_id + (w.self ? " (this page)" : ""));
      cell(tr, str(w.host) + (w.port ? ":" + w.port : ""));
      cell(tr, badge(w.status, w.status));
      cell(tr, Math.round(w.seconds_since_heartbeat) + " s ago", "num");
      cell(tr, badge(w.health, w.health));
    }, f.status === "ok" ? "no heartbeat seen yet" : "unknown");
    var c = data.commands;
    text("processed", c.processed);
    text("completed", c.byStatus.COMPLETED);
    text("failed", c.byStatus.FAILED);
    text("in-flight-count", c.inFlight.length);
    text("dlq-count", data.dlq.count);
    text("dlq-topic", data.dlq.topic);
    text("lag-total", data.lag.total);
    fill("lag", data.lag.partitions, function (tr, p) {
      cell(tr, p.topic);
      cell(tr, p.partition, "num");
      cell(tr, p.lag, "num");
    }, "no partitions assigned");
    fill("in-flight", c.inFlight, function (tr, r) {
      tr.dataset.commandId = r.command_id;
      cell(tr, time(r.started_at));
      cell(tr, r.command_id);
      cell(tr, r.command_type);
      cell(tr, badge(r.status, r.status));
      cell(tr, r.attempts, "num");
    }, "nothing in flight");
    fill("recent", c.recent, function (tr, r) {
      tr.dataset.commandId = r.command_id;
      cell(tr, time(r.finished_at));
      cell(tr, r.command_id);
      cell(tr, r.command_type);
      cell(tr, badge(r.status, r.status));
      cell(tr, ms(r.processing_ms), "num");
    }, "no command finished yet");
    fill("failures", data.failures, function (tr, r) {
      tr.dataset.commandId = r.command_id;
      cell(tr, time(r.finished_at));
      cell(tr, r.command_id);
      cell(tr, r.command_type);
      cell(tr, r.error ? r.error.code : "");
      cell(tr, r.error ? r.error.message : "", "error-message");
    }, "no failures");
    text("updated-at", time(data.generatedAt));
    text("stale", "");
    document.body.dataset.loaded = "true";
  }
  function tick() {
    fetch("monitor/data", {cache: "no-store", headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(render)
      .catch(function (err) { text("stale", "update failed: " + err.message); })
      .finally(function () { window.setTimeout(tick, refresh * 1000); });
  }
  text("refresh", refresh);
  tick();
}());
"""

_BODY = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>EnginEdge worker monitor</title>
<style>{style}</style></head>
<body>
<header><h1><span id="worker-type">…</span> <span id="worker-description" class="muted"></span></h1>
<span id="instance"></span><span id="health"></span><span id="ready"></span></header>
<main>
<section class="wide"><div class="stats">
<div class="stat"><b id="processed">0</b>processed</div>
<div class="stat"><b id="completed">0</b>completed</div>
<div class="stat"><b id="failed">0</b>failed</div>
<div class="stat"><b id="in-flight-count">0</b>in flight</div>
<div class="stat"><b id="dlq-count">0</b>dead-lettered (<span id="dlq-topic"></span>)</div>
<div class="stat"><b id="lag-total">0</b>consumer lag</div>
</div></section>
<section class="wide"><h2>Workers <span id="fleet-status"></span>
<span id="fleet-detail" class="muted"></span></h2><table id="fleet"><thead><tr><th>type</th>
<th>instance</th><th>host</th><th>state</th><th>last seen</th><th>health</th></tr></thead>
<tbody></tbody></table></section>
<section><h2>Readiness</h2><table id="checks"><thead><tr><th>check</th><th>state</th>
<th>detail</th></tr></thead><tbody></tbody></table></section>
<section><h2>Consumer lag</h2><table id="lag"><thead><tr><th>topic</th><th>partition</th>
<th>lag</th></tr></thead><tbody></tbody></table></section>
<section class="wide"><h2>In flight</h2><table id="in-flight"><thead><tr><th>started</th>
<th>command id</th><th>type</th><th>status</th><th>attempts</th></tr></thead><tbody></tbody>
</table></section>
<section class="wide"><h2>Recent commands</h2><table id="recent"><thead><tr><th>finished</th>
<th>command id</th><th>type</th><th>status</th><th>ms</th></tr></thead><tbody></tbody></table>
</section>
<section class="wide"><h2>Failures</h2><table id="failures"><thead><tr><th>finished</th>
<th>command id</th><th>type</th><th>code</th><th>error</th></tr></thead><tbody></tbody></table>
</section>
</main>
<footer class="muted">updated <span id="updated-at">never</span>,
every <span id="refresh"></span> s <span id="stale"></span></footer>
<script>{script}</script>
</body></html>
"""


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

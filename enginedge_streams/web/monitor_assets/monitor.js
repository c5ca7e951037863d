
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
    return iso ? iso.replace("T", " ").replace(/\.\d+/, "").replace("+00:00", "Z") : "";
  }
  function ms(value) { return typeof value === "number" ? value.toFixed(1) : ""; }
  function state(ok, yes, no) { return badge(ok ? yes : no, ok ? "ok" : "bad"); }
  function render(data) {
    var w = data.worker;
    text("worker-type", w.workerType);
    text("worker-description", w.description);
    text("instance", [w.instanceId, "v" + w.version, "port " + w.port,
                      "up " + Math.round(w.uptimeSeconds) + " s"].join(" \u00b7 "));
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

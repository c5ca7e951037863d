"""A real Prometheus (Debian's package, on loopback) scrapes a running worker with the
project's own scrape config and alert rules; the metrics, an alert and every Grafana
dashboard query come back through its HTTP API."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest
import yaml

from enginedge_streams.records import Status
from tests.deploy.support import tool
from tests.support.workers import ROOT, free_port, http_get

pytestmark = pytest.mark.timeout(240)

WORKER = "scheduling"  # any worker: the metrics, page and alerts are the platform's
DASHBOARD = ROOT / "monitoring/grafana/dashboards/enginedge-workers.json"
#: Panels that must show data for a worker that has completed, failed and dead-lettered
#: commands (tokens, cost and external API panels stay empty for a worker without them).
MUST_HAVE_DATA = {
    "Throughput (commands/s)",
    "Errors (commands/s by status)",
    "Latency quantiles (p50 / p95 / p99)",
    "Consumer lag (messages)",
    "Dead-lettered (last hour)",
    "Memory per worker process",
    "CPU per worker process",
    "Instances reporting",
}


@pytest.fixture(scope="module")
def worker(module_worker_factory):
    return module_worker_factory(WORKER)


class Prometheus:
    def __init__(self, root: Path, target: str) -> None:
        config = yaml.safe_load((ROOT / "monitoring/prometheus.yml").read_text())
        config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
        config["rule_files"] = [str(ROOT / "monitoring/alerts.yml")]
        (job,) = config["scrape_configs"]
        (static,) = [c for c in job["static_configs"] if c["labels"]["worker"] == WORKER]
        job["static_configs"] = [{"targets": [target], "labels": static["labels"]}]
        self.config = root / "prometheus.yml"
        self.config.write_text(yaml.safe_dump(config))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = root / "prometheus.log"
        self.proc = subprocess.Popen(
            [
                tool("prometheus"),
                f"--config.file={self.config}",
                f"--storage.tsdb.path={root / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                if http_get(f"{self.url}/-/ready", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError(self.log.read_text())

    def api(self, path: str, **params: str) -> dict:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        status, body = http_get(f"{self.url}/api/v1/{path}{query}", timeout=10)
        data = json.loads(body)
        assert status == 200 and data["status"] == "success", (status, data)
        return data["data"]

    def query(self, expr: str) -> list[dict]:
        return self.api("query", query=expr)["result"]

    def value(self, expr: str) -> float | None:
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None

    def wait_for(self, expr: str, check, timeout: float = 45) -> float:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.value(expr)
            if last is not None and check(last):
                return last
            time.sleep(0.5)
        raise AssertionError(f"{expr} = {last}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # by PID: only the server this test started
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@pytest.fixture
def prometheus(worker, tmp_path):
    server = Prometheus(tmp_path, f"127.0.0.1:{worker.port}")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def sel(extra: str = "") -> str:
    return "{" + f'worker_type="{WORKER}"' + (f",{extra}" if extra else "") + "}"


async def test_prometheus_scrapes_the_worker_and_alerts_on_dlq(worker, prometheus, module_bus):
    p = prometheus
    assert p.wait_for('up{job="enginedge-workers"}', lambda v: v == 1) == 1
    # Scraped before the commands, so every counter is seen going up from its first value.
    p.wait_for(f"worker_dead_letters_total{sel()}", lambda v: v >= 0)
    completed_expr = "worker_commands_total" + sel('status="COMPLETED"')
    before = p.value(completed_expr) or 0

    results = await asyncio.gather(
        *[module_bus.call(WORKER, "system.ping", {"echo": f"p{i}"}, timeout=60) for i in range(3)]
    )
    assert all(r.status is Status.COMPLETED for r in results)
    failed = await module_bus.call(WORKER, "system.ping", {"delay_ms": "soon"}, timeout=60)
    assert failed.status is Status.FAILED and failed.error.code == "INVALID_PAYLOAD"
    await module_bus.send_raw(
        f"{module_bus.prefix}worker.{WORKER}.requests", b"\x00 not a command", key=b"poison"
    )

    assert p.wait_for(completed_expr, lambda v: v >= before + 3) >= before + 3
    p.wait_for("worker_commands_total" + sel('status="FAILED"'), lambda v: v >= 1)
    p.wait_for(f"worker_dead_letters_total{sel()}", lambda v: v >= 1)
    p.wait_for(f"sum(worker_command_duration_seconds_count{sel()})", lambda v: v >= 4)
    assert p.wait_for(f"worker_memory_usage_bytes{sel()}", lambda v: v > 10_000_000)
    assert p.query(f"worker_cpu_usage_percent{sel()}")
    lag = p.query(f"worker_consumer_lag{sel()}")
    assert lag and {r["metric"]["topic"] for r in lag} == {
        f"{module_bus.prefix}worker.{WORKER}.requests"
    }
    # The target keeps the labels of the project's scrape config.
    (up,) = p.query('up{job="enginedge-workers"}')
    assert up["metric"]["worker"] == WORKER and up["metric"]["service"] == WORKER.replace("_", "-")

    # The project's alert rules are loaded, and the DLQ alert fires on this worker.
    rules = [r for g in p.api("rules")["groups"] for r in g["rules"]]
    assert {r["name"] for r in rules} >= {"EnginEdgeWorkerDown", "EnginEdgeDeadLettersGrowing"}
    assert all(r["health"] == "ok" for r in rules), rules
    deadline = time.monotonic() + 30
    firing = []
    while time.monotonic() < deadline and not firing:
        firing = [
            a
            for a in p.api("alerts")["alerts"]
            if a["labels"]["alertname"] == "EnginEdgeDeadLettersGrowing"
            and a["labels"].get("worker_type") == WORKER
            and a["state"] == "firing"
        ]
        time.sleep(0.5)
    assert firing, p.api("alerts")
    assert not [
        a for a in p.api("alerts")["alerts"] if a["labels"]["alertname"] == "EnginEdgeWorkerDown"
    ]

    # Every dashboard query runs on real data; the core panels show it.
    dash = json.loads(DASHBOARD.read_text())
    empty = []
    for panel in dash["panels"]:
        results = []
        for target in panel["targets"]:
            expr = (
                target["expr"]
                .replace("$__rate_interval", "20s")
                .replace('=~"$worker_type"', f'=~"{WORKER}"')
            )
            results += p.query(expr)  # raises on a query Prometheus rejects
        if panel["title"] in MUST_HAVE_DATA and not results:
            empty.append(panel["title"])
    assert not empty, f"panels without data: {empty}"

    # And the worker's own /metrics still answers after all this.
    assert http_get(f"{worker.url}/metrics")[0] == 200

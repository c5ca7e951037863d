"""Shared benchmark plumbing: rows with ratios, worker processes, machine facts."""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from enginedge_streams.client import BusClient
from tests.support.stack import KAFKA, ensure_stack
from tests.support.workers import WorkerProcess


@dataclass
class Row:
    """One comparison. ``ratio`` is always ours / reference; ``target`` says which way is good."""

    name: str
    ours: float
    reference: float
    unit: str
    target: str = ""
    notes: str = ""

    @property
    def ratio(self) -> float:
        return self.ours / self.reference if self.reference else float("nan")


@dataclass
class BenchContext:
    quick: bool = False
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bench-")))
    prefix: str = field(default_factory=lambda: f"b{uuid.uuid4().hex[:8]}.")
    workers: list[WorkerProcess] = field(default_factory=list)
    clients: list[BusClient] = field(default_factory=list)

    def setup(self) -> None:
        ensure_stack("kafka", "redis")

    def worker(
        self, worker_type: str, env: dict[str, str] | None = None, prefix: str | None = None
    ) -> WorkerProcess:
        n = len(self.workers)
        w = WorkerProcess(
            worker_type=worker_type,
            prefix=prefix or self.prefix,
            data_dir=self.tmp / f"data-{n}",
            log_path=self.tmp / f"{worker_type}-{n}.log",
            env={"LOG_LEVEL": "warning", **(env or {})},
        )
        self.workers.append(w)
        return w.start(timeout=180)

    async def bus(self, prefix: str | None = None, partitions: int = 4) -> BusClient:
        client = BusClient([KAFKA], prefix=prefix or self.prefix, partitions=partitions)
        await client.start()
        self.clients.append(client)
        return client

    async def close(self) -> None:
        for c in self.clients:
            await c.stop()
        for w in self.workers:
            w.stop(timeout=30)
        shutil.rmtree(self.tmp, ignore_errors=True)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def timed(fn: Callable[[], Any], repeat: int = 3) -> float:
    """Best wall time of ``repeat`` runs (seconds)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    java = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False).stderr
    return {
        "python": platform.python_version(),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "kernel": platform.release(),
        "java": java.splitlines()[0] if java else "?",
    }


def markdown(rows: list[Row]) -> str:
    out = [
        "| benchmark | ours | reference | unit | ratio (ours/ref) | target | notes |",
        "|---|---:|---:|---|---:|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r.name} | {r.ours:,.2f} | {r.reference:,.2f} | {r.unit} | "
            f"{r.ratio:.2f}x | {r.target} | {r.notes} |"
        )
    return "\n".join(out)

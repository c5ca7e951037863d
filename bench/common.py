"""Shared benchmark plumbing: rows with ratios, worker processes, machine facts."""

from __future__ import annotations

import asyncio
import os
import platform
import re
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

import psutil

from enginedge_streams.client import BusClient
from enginedge_streams.records import Status
from tests.support.stack import KAFKA, ensure_stack
from tests.support.workers import WorkerProcess

ROOT = Path(__file__).resolve().parents[1]


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
    full: bool = False
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bench-")))
    prefix: str = field(default_factory=lambda: f"b{uuid.uuid4().hex[:8]}.")
    workers: list[WorkerProcess] = field(default_factory=list)
    clients: list[BusClient] = field(default_factory=list)
    #: (worker type, peak RSS in MiB) of every worker this benchmark ran, read before stopping it.
    peaks: list[tuple[str, float]] = field(default_factory=list)

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
            self.record_peak(w)
            w.stop(timeout=30)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def size(self, quick: Any, default: Any, full: Any) -> Any:
        """Pick a size for ``--quick``, a plain run, or ``--full``."""
        return quick if self.quick else full if self.full else default

    def record_peak(self, worker: WorkerProcess) -> None:
        if worker.proc is not None and worker.proc.poll() is None:
            self.peaks.append((worker.worker_type, tree_kib(worker.pid, "VmHWM") / 1024))

    def peak_row(self, worker: WorkerProcess, name: str, notes: str) -> Row:
        """Stop a worker that ran a load; its peak RSS (VmHWM) against its memory limit."""
        self.record_peak(worker)
        peak = self.peaks[-1][1]
        worker.stop(timeout=30)
        return Row(name, peak, limit_mib(worker.worker_type), "MiB", "<= 1x", notes)


def limit_mib(worker_type: str) -> float:
    """The container memory limit of a worker type, from its manifest."""
    path = ROOT / "manifests" / "workers" / f"{worker_type.replace('_', '-')}.yaml"
    text = path.read_text()
    limits = text.split("limits:", 1)[1]
    m = re.search(r"memory:\s*'?(\d+)(Gi|Mi)", limits)
    if m is None:
        raise ValueError(f"no memory limit in {path}")
    return float(m.group(1)) * (1024 if m.group(2) == "Gi" else 1)


async def completed(
    bus: BusClient, worker_type: str, command_type: str, payload: dict[str, Any], timeout: float
) -> Any:
    """The result of a command that must complete: a benchmark checks what it measures."""
    r = await bus.call(worker_type, command_type, payload, timeout=timeout)
    if r.status is not Status.COMPLETED:
        raise RuntimeError(f"{worker_type} {command_type}: {r.status.value}: {r.error}")
    return r.result


class Commands:
    """Commands to one worker that must complete, counted, at most ``in_flight`` at once."""

    def __init__(
        self, bus: BusClient, worker_type: str, *, in_flight: int = 0, timeout: float = 120
    ) -> None:
        self.bus = bus
        self.worker_type = worker_type
        self.timeout = timeout
        self.gate = asyncio.Semaphore(in_flight) if in_flight else None
        self.count = 0

    async def __call__(self, command_type: str, payload: dict[str, Any]) -> Any:
        self.count += 1
        if self.gate is None:
            return await completed(self.bus, self.worker_type, command_type, payload, self.timeout)
        async with self.gate:
            return await completed(self.bus, self.worker_type, command_type, payload, self.timeout)


def tree_kib(pid: int, field: str) -> int:
    """Sum of a /proc/<pid>/status field (VmRSS, VmHWM) over a process and its descendants.

    For VmHWM the sum over a process tree is an upper bound (children may peak at
    different times).
    """
    try:
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        try:
            for line in Path(f"/proc/{p.pid}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


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
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": f"{psutil.virtual_memory().total / 1024**3:.0f} GiB",
        "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "faust-streaming": _version("faust-streaming"),
        "aiokafka": _version("aiokafka"),
        "kafka broker": kafka_version(),
        "java": java.splitlines()[0] if java else "?",
    }


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


def kafka_version() -> str:
    """The broker's version, from the Kafka jar on a running broker's class path."""
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if "kafka.Kafka" not in cmdline or "-cp" not in cmdline:
            continue
        for entry in cmdline[cmdline.index("-cp") + 1].split(os.pathsep):
            for jar in Path(entry).parent.glob("kafka_*.jar") if "*" in entry else []:
                m = re.fullmatch(r"kafka_[\d.]+-([\d.]+)\.jar", jar.name)
                if m:
                    return m.group(1)
    return "?"


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

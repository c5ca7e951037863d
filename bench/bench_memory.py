"""Memory: idle RSS of every worker type against its Kubernetes memory limit.

Each worker type is started alone (``faust -A enginedge_streams worker`` with
its ``WORKER_TYPE``, local defaults: no API keys), waited for until ``/ready``
reports its partitions, left idle for a moment, and then its resident set is
read from ``/proc/<pid>/status`` (``VmRSS`` of the worker plus any child
processes). The budget is the container limit in ``manifests/workers/`` (the
deployment guide's 2-8 GB). Peaks under load (``VmHWM``) are collected by every
benchmark that runs workers and printed at the end of ``python -m bench``.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time

from bench.common import BenchContext, Row, limit_mib, tree_kib
from enginedge_streams.worker_types import DEFAULT_PORTS

# Settings a worker refuses to start without (local, throwaway values).
ENV: dict[str, dict[str, str]] = {
    "identity": {
        "IDENTITY_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    },
}


async def idle_rss(ctx: BenchContext, worker_type: str) -> tuple[float, float]:
    worker = ctx.worker(worker_type, env=ENV.get(worker_type))
    await asyncio.sleep(3)  # let start-up work (model warm-up, first timers) settle
    rss = tree_kib(worker.pid, "VmRSS") / 1024
    hwm = tree_kib(worker.pid, "VmHWM") / 1024
    worker.stop(timeout=30)
    ctx.workers.remove(worker)
    return rss, hwm


async def run(ctx: BenchContext) -> list[Row]:
    rows = []
    for worker_type in DEFAULT_PORTS:
        t0 = time.perf_counter()
        rss, hwm = await idle_rss(ctx, worker_type)
        rows.append(
            Row(
                f"{worker_type}: idle RSS vs memory limit",
                rss,
                limit_mib(worker_type),
                "MiB",
                "<= 1x",
                f"start-up peak (VmHWM) {hwm:,.0f} MiB; ready in {time.perf_counter() - t0:.0f}s",
            )
        )
    return rows

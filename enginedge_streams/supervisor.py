"""Run several worker types locally: one Faust worker process per type.

Each type keeps its own app id (consumer group), port and RocksDB directory,
exactly as in a deployment; the supervisor only starts them, restarts one that
dies (with backoff), and forwards SIGTERM/SIGINT. Used by ``enginedge run`` and
by ``faust -A enginedge_streams worker`` when WORKER_TYPE names several types.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass, field

import faust
from mode import Service

from enginedge_streams import logs
from enginedge_streams.settings import Settings
from enginedge_streams.topics import app_id
from enginedge_streams.worker_types import default_port

log = logging.getLogger("enginedge.supervisor")

#: The supervisor's own web port when WORKER_TYPE lists several types (the
#: orchestrator keeps the guide's 3000).
SUPERVISOR_PORT = 2999


@dataclass
class Child:
    worker_type: str
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    started_at: float = field(default_factory=time.monotonic)


class ProcessSupervisor:
    def __init__(self, worker_types: list[str], *, extra_env: dict[str, str] | None = None) -> None:
        self.children = {t: Child(t) for t in worker_types}
        self.extra_env = extra_env or {}
        self.stopping = False

    def argv(self) -> list[str]:
        return [sys.executable, "-m", "faust", "-A", "enginedge_streams", "worker", "-l", "info"]

    async def _spawn(self, child: Child) -> None:
        env = {**os.environ, **self.extra_env, "WORKER_TYPE": child.worker_type}
        # Each type uses its own port from the guide (shifted by SUPERVISOR_PORT_OFFSET).
        offset = int(env.get("SUPERVISOR_PORT_OFFSET", "0") or 0)
        env["PORT"] = str(default_port(child.worker_type) + offset)
        child.process = await asyncio.create_subprocess_exec(*self.argv(), env=env)
        child.started_at = time.monotonic()
        log.info("started %s worker (pid %s)", child.worker_type, child.process.pid)

    async def run(self) -> int:
        for child in self.children.values():
            await self._spawn(child)
        while not self.stopping:
            await asyncio.sleep(0.5)
            for child in self.children.values():
                proc = child.process
                if proc is None or proc.returncode is None or self.stopping:
                    continue
                uptime = time.monotonic() - child.started_at
                delay = 1.0 if uptime > 60 else min(30.0, 2.0 ** min(child.restarts, 5))
                child.restarts += 1
                log.warning(
                    "%s worker exited with %s; restarting in %.0fs",
                    child.worker_type,
                    proc.returncode,
                    delay,
                )
                await asyncio.sleep(delay)
                if not self.stopping:
                    await self._spawn(child)
        return 0

    async def stop(self, timeout: float = 30.0) -> None:
        self.stopping = True
        procs = [
            c.process for c in self.children.values() if c.process and c.process.returncode is None
        ]
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.gather(*(p.wait() for p in procs)), timeout)
        except TimeoutError:
            for proc in procs:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()


def run_forever(worker_types: list[str], extra_env: dict[str, str] | None = None) -> int:
    """Blocking entry point for the CLI."""
    supervisor = ProcessSupervisor(worker_types, extra_env=extra_env)

    async def main() -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(supervisor.stop()))
        return await supervisor.run()

    return asyncio.run(main())


def supervisor_app(settings: Settings, worker_types: list[str]) -> faust.App:
    """A producer-only Faust app whose only job is to supervise one process per type."""
    app = faust.App(
        app_id("supervisor", settings.topic_prefix),
        broker=settings.broker_url,
        autodiscover=False,
        web_port=settings.port or SUPERVISOR_PORT,
        web_host=settings.web_host,
        web_bind=settings.web_host,
        web_tables_enabled=False,
        logging_config=logs.logging_config("supervisor", settings.log_level),
        loghandlers=[],
    )
    app.producer_only = True
    supervisor = ProcessSupervisor(worker_types)

    class Supervise(Service):
        async def on_start(self) -> None:
            self.add_future(supervisor.run())

        async def on_stop(self) -> None:
            await supervisor.stop()

    app.service(Supervise)

    @app.page("/health")
    async def health(self: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        children = {
            t: {
                "pid": c.process.pid if c.process else None,
                "running": bool(c.process and c.process.returncode is None),
                "restarts": c.restarts,
            }
            for t, c in supervisor.children.items()
        }
        ok = all(c["running"] for c in children.values())
        return self.json(
            {"status": "ok" if ok else "degraded", "workers": children}, status=200 if ok else 503
        )

    return app

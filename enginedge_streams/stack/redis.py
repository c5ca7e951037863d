"""Redis from Debian's redis-server, on loopback, no persistence."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from enginedge_streams.stack.base import ServiceStatus, apt_install, port_open, stack_dir, wait_for
from enginedge_streams.stack.process import ManagedProcess


class RedisService:
    name = "redis"

    def __init__(
        self, root: Path | None = None, *, port: int | None = None, durable: bool = False
    ) -> None:
        self.root = (root or stack_dir()) / "redis"
        #: durable: every write is fsync'd to an append-only file and survives a restart
        #: (the local stack's Redis is a cache and keeps nothing).
        self.durable = durable
        self.host = "127.0.0.1"
        self.port = port or int(os.environ.get("STACK_REDIS_PORT", "6379"))
        self.proc = ManagedProcess(
            "redis", self.root / "redis.pid", self.root / "redis.log", "redis-server"
        )

    @property
    def address(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def install(self) -> None:
        if shutil.which("redis-server") is None:
            apt_install("redis-server")

    def start(self, timeout: float = 30.0) -> None:
        self.install()
        self.root.mkdir(parents=True, exist_ok=True)
        if not self.proc.running():
            if port_open(self.host, self.port):
                raise RuntimeError(f"port {self.port} is taken by another process")
            self.proc.start(
                [
                    shutil.which("redis-server") or "redis-server",
                    "--bind",
                    self.host,
                    "--port",
                    str(self.port),
                    "--save",
                    "",
                    "--appendonly",
                    "yes" if self.durable else "no",
                    "--appendfsync",
                    "always",
                    "--dir",
                    str(self.root),
                    "--daemonize",
                    "no",
                ]
            )
        wait_for(lambda: port_open(self.host, self.port), timeout, f"Redis at {self.address}")

    def stop(self) -> None:
        self.proc.stop()

    def status(self) -> ServiceStatus:
        return self.proc.status(self.address)

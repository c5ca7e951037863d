"""Run real worker processes (`faust -A enginedge_streams worker`) for tests."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from tests.support.stack import KAFKA, REDIS_URL

ROOT = Path(__file__).resolve().parents[2]


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL it when the parent (thread) exits (Linux)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def http_post(
    url: str, body: bytes, headers: dict[str, str] | None = None, timeout: float = 30.0
) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, headers=headers or {}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def latex_worker_env(
    root: Path, *, timeout_s: int, prefix: str = "", **extra: str
) -> dict[str, str]:
    """A LaTeX worker's environment: two compiles at a time, TeX cache and work directories
    under ``root`` (named ``<prefix>cache`` ...), plus ``extra``. Its PDFs go to the platform
    artifact store, shared with the other workers and clients (claim checks)."""
    return {
        "MAX_CONCURRENCY": "2",
        "LATEX_CACHE_DIR": str(root / f"{prefix}cache"),
        "LATEX_WORK_DIR": str(root / f"{prefix}work"),
        "LATEX_TIMEOUT_SECONDS": str(timeout_s),
        **extra,
    }


def start_together(*workers: WorkerProcess, timeout: float = 120.0) -> tuple[WorkerProcess, ...]:
    """Start the workers at once (they load in parallel), then wait until each is ready."""
    for worker in workers:
        worker.start(wait=False)
    for worker in workers:
        worker.wait_ready(timeout)
    return workers


@dataclass
class WorkerProcess:
    worker_type: str
    prefix: str
    data_dir: Path
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    #: the interpreter and working directory the worker runs with
    python: ClassVar[Path] = Path(sys.executable)
    cwd: ClassVar[Path] = ROOT

    def base_env(self) -> dict[str, str]:
        """The environment under the worker's own variables (the source tree importable)."""
        return {**os.environ, "PYTHONPATH": str(ROOT)}

    def start(self, wait: bool = True, timeout: float = 90.0) -> WorkerProcess:
        env = {
            **self.base_env(),
            "WORKER_TYPE": self.worker_type,
            "TOPIC_PREFIX": self.prefix,
            "PORT": str(self.port),
            "WEB_HOST": "127.0.0.1",
            "DATA_DIR": str(self.data_dir),
            "KAFKA_BROKERS": KAFKA,
            "REDIS_URL": REDIS_URL,
            "LOG_LEVEL": "info",
            **self.env,
        }
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [str(self.python), "-m", "faust", "-A", "enginedge_streams", "worker", "-l", "info"],
            cwd=self.cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # Started from the main thread, the worker dies with the test process: a
            # killed or timed-out pytest leaves no orphan burning CPU for later tests.
            preexec_fn=_die_with_parent
            if threading.current_thread() is threading.main_thread()
            else None,
        )
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 90.0) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                status, body = http_get(f"{self.url}/ready", timeout=2)
                last = body
                data = json.loads(body)
                assigned = data["checks"]["kafka"]["assigned_partitions"]
                if status == 200 and assigned > 0:
                    return data
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.3)
        raise TimeoutError(f"worker not ready after {timeout}s: {last!r}\n{self.tail()}")

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, sig)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self, timeout: float = 60.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def log_lines(self) -> list[str]:
        try:
            return self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return []

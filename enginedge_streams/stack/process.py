"""Background processes tracked by PID files, signalled by their own PID."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from enginedge_streams.stack.base import ServiceStatus


@dataclass
class ManagedProcess:
    name: str
    pid_file: Path
    log_file: Path
    marker: str  # a string that must appear in /proc/<pid>/cmdline (guards against PID reuse)

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            return None
        if self.marker not in cmdline:
            return None
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return None
        if "\nState:\tZ" in status:
            return None
        return pid

    def status(self, address: str, detail: str = "") -> ServiceStatus:
        """What ``enginedge stack status`` shows for the service this process runs."""
        pid = self.pid()
        return ServiceStatus(self.name, pid is not None, pid, address, detail)

    def alive(self) -> bool:
        """The recorded PID exists and is not a zombie (no marker check: right after a
        fork the child may not have exec'd its program yet)."""
        try:
            pid = int(self.pid_file.read_text().strip())
            status = Path(f"/proc/{pid}/status").read_text()
        except (OSError, ValueError):
            return False
        return "\nState:\tZ" not in status

    def running(self) -> bool:
        return self.pid() is not None

    def start(
        self, argv: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> int:
        existing = self.pid()
        if existing is not None:
            return existing
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})},
                cwd=cwd,
                start_new_session=True,
            )
        self.pid_file.write_text(str(proc.pid))
        return proc.pid

    def signal(self, sig: int) -> bool:
        pid = self.pid()
        if pid is None:
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        return True

    def stop(self, timeout: float = 30.0) -> bool:
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.pid() is not None:
            time.sleep(0.2)
        if self.pid() is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)
        self.pid_file.unlink(missing_ok=True)
        return True

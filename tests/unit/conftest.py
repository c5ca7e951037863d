"""``tests/unit`` does no I/O: a unit test that opens a network socket or starts a process
fails (``UnitTestIOError``). Fetches go to ``RoutedHttpFetcher`` sites, pools to
``InProcessComputePool``; an adapter against a real server or tool is an integration test.
"""

from __future__ import annotations

import os
import socket
import subprocess
from typing import Any

# croniter (imported by mode, so by faust) calls platform.architecture() at import time, which
# runs `file`: import it here, before any test's guard, so a test that is first to import faust
# does not fail on that import.
import croniter  # noqa: F401
import pytest


class UnitTestIOError(AssertionError):
    pass


def _refuse(what: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise UnitTestIOError(
            f"tests/unit does no I/O ({what}): move this test to tests/integration"
        )

    return refuse


def _guard_inet(original: Any, what: str) -> Any:
    def guarded(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise UnitTestIOError(f"tests/unit does no I/O ({what} {address!r})")
        return original(self, address)

    return guarded


@pytest.fixture(autouse=True)
def _no_io(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("connect", "connect_ex", "bind"):
        monkeypatch.setattr(socket.socket, name, _guard_inet(getattr(socket.socket, name), name))
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("a subprocess"))
    monkeypatch.setattr(os, "fork", _refuse("a forked process"))

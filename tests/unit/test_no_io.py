"""The guard of ``tests/unit/conftest.py`` holds: no network socket, no process."""

from __future__ import annotations

import asyncio
import socket
import subprocess

import pytest

from tests.unit.conftest import UnitTestIOError


def test_a_unit_test_cannot_open_a_network_socket():
    with pytest.raises(UnitTestIOError, match="no I/O"):
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    with socket.socket() as s, pytest.raises(UnitTestIOError, match="no I/O"):
        s.bind(("127.0.0.1", 0))


def test_a_unit_test_cannot_start_a_process():
    with pytest.raises(UnitTestIOError, match="no I/O"):
        subprocess.run(["true"], check=False)


async def test_nor_an_asyncio_server_or_subprocess():
    with pytest.raises(UnitTestIOError, match="no I/O"):
        await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    with pytest.raises(UnitTestIOError, match="no I/O"):
        await asyncio.create_subprocess_exec("true")


def test_local_pipes_still_work():
    a, b = socket.socketpair()  # what the event loop itself uses
    with a, b:
        a.sendall(b"x")
        assert b.recv(1) == b"x"

"""Waiting for a command's state writes before its result is published.

A Faust table write only appends to the producer's buffer (sent moments later,
or lost if the process dies first), while a result is sent directly. Without a
wait, a client could see COMPLETED while the state behind it (the terminal
status, a handler's own table writes) is lost by a SIGKILL — and the command
would run a second time after the restart or a partition handover.

The processor opens ``tracking()`` around a command; every changelog write made
in that context (the status table and any table the handler writes, through
``TrackedTable``) joins its list, and ``settle()`` awaits them all before the
result goes out. Plain asyncio: no Faust here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_writes: ContextVar[list[asyncio.Future[Any]] | None] = ContextVar("enginedge_writes", default=None)


@contextmanager
def tracking() -> Iterator[list[asyncio.Future[Any]]]:
    """Collect the durable-write futures made in this context (and its child tasks)."""
    writes: list[asyncio.Future[Any]] = []
    token = _writes.set(writes)
    try:
        yield writes
    finally:
        _writes.reset(token)


def track(write: object) -> None:
    """Called by a table for each changelog write (a future resolved on delivery)."""
    writes = _writes.get()
    if writes is not None and isinstance(write, asyncio.Future):
        writes.append(write)


async def settle(writes: list[asyncio.Future[Any]]) -> None:
    """Wait until every tracked write is acknowledged by the broker (errors propagate)."""
    if writes:
        await asyncio.gather(*writes)
    writes.clear()

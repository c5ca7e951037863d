"""Where CPU-bound steps run: a pool that can stop a step, so the event loop never stalls.

A handler hands the pool a plain top-level (picklable) function and its
arguments; the pool runs it away from the event loop and enforces a hard
wall-time limit: the smaller of the step's own ``timeout_s`` and the running
command's remaining deadline (the processor sets it; see
:mod:`enginedge_streams.compute`). A step that overruns is stopped and the
call raises a :class:`~enginedge_streams.errors.PermanentError` whose code is
``DEADLINE_EXCEEDED`` when the deadline was the binding limit, else the
step's ``limit_code``; the processor turns it into a FAILED result.

Exceptions the step raises on purpose (any ``EnginEdgeError``) arrive with
their code, message and details intact.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class ComputePool(Protocol):
    async def run(
        self,
        fn: Callable[..., T],
        *args: Any,
        timeout_s: float | None = None,
        limit_code: str = "DEADLINE_EXCEEDED",
    ) -> T: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

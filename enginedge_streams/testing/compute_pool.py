"""An in-process ``ComputePool`` for unit tests: same contract, no child processes.

Steps run inline, but their arguments and results make the pickle round trip a
real pool would make, so a test catches a step that is not a top-level
function or an argument that cannot cross a process boundary. Errors come back
the way the process pool delivers them, and the limit each step would have had
is recorded in ``calls``.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any, TypeVar

from enginedge_streams.compute import (
    InlineComputePool,
    StepError,
    StepLimit,
    rebuild_error,
    run_step,
)

T = TypeVar("T")


class InProcessComputePool(InlineComputePool):
    def __init__(self) -> None:
        super().__init__()
        self.started = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.started = False

    async def _execute(
        self, fn: Callable[..., T], args: tuple[Any, ...], limit: StepLimit, name: str, code: str
    ) -> T:
        fn, args = pickle.loads(pickle.dumps((fn, args)))  # noqa: S301 - our own bytes
        value = pickle.loads(pickle.dumps(run_step(fn, args)))  # noqa: S301 - our own bytes
        if isinstance(value, StepError):
            raise rebuild_error(value)
        return value  # type: ignore[no-any-return]  # the step's own return type

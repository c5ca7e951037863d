"""A ``BusCaller`` fake answering from a table of canned results (and recording the calls)."""

from __future__ import annotations

from typing import Any


class ScriptedBusCaller:
    """``answers[(worker_type, command_type)]``: the result payload, or an exception to raise.

    ``available(worker_type)`` is true unless the worker type is in ``down``.
    """

    def __init__(
        self, answers: dict[tuple[str, str], Any] | None = None, *, down: set[str] | None = None
    ) -> None:
        self.answers = answers or {}
        self.down = down or set()
        self.calls: list[tuple[str, str, dict[str, Any], float]] = []

    async def call(
        self, worker_type: str, command_type: str, payload: dict[str, Any], *, timeout: float
    ) -> Any:
        self.calls.append((worker_type, command_type, payload, timeout))
        answer = self.answers[(worker_type, command_type)]
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def available(self, worker_type: str, *, timeout: float = 3.0) -> bool:
        return worker_type not in self.down

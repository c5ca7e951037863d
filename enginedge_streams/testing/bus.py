"""A ``BusCaller`` fake answering from a table of canned results (and recording the calls)."""

from __future__ import annotations

from typing import Any

from enginedge_streams.errors import EnginEdgeError
from enginedge_streams.ports.bus_caller import CallOutcome
from enginedge_streams.records import Command


class ScriptedBusCaller:
    """``answers[(worker_type, command_type)]``: the result payload, a ``CallOutcome``, or an
    exception to raise; or a function of the payload returning one of those.

    ``call`` raises a failed ``CallOutcome`` with the port's own mapping; ``call_outcome``
    turns a platform exception into the outcome the adapter would have returned.
    ``available(worker_type)`` is true unless the worker type is in ``down``. ``calls``
    records ``(worker_type, command_type, payload, timeout)``; ``commands`` the commands
    given to ``call_outcome``.
    """

    def __init__(
        self, answers: dict[tuple[str, str], Any] | None = None, *, down: set[str] | None = None
    ) -> None:
        self.answers = answers or {}
        self.down = down or set()
        self.calls: list[tuple[str, str, dict[str, Any], float]] = []
        self.commands: list[Command] = []

    def _answer(
        self, worker_type: str, command_type: str, payload: dict[str, Any], timeout: float
    ) -> Any:
        self.calls.append((worker_type, command_type, payload, timeout))
        answer = self.answers[(worker_type, command_type)]
        return answer(payload) if callable(answer) else answer

    async def call(
        self, worker_type: str, command_type: str, payload: dict[str, Any], *, timeout: float
    ) -> Any:
        answer = self._answer(worker_type, command_type, payload, timeout)
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, CallOutcome):
            return answer.unwrap(worker_type, command_type)
        return answer

    async def call_outcome(
        self, worker_type: str, command: Command, *, timeout: float
    ) -> CallOutcome:
        self.commands.append(command)
        answer = self._answer(worker_type, command.command_type, command.payload, timeout)
        if isinstance(answer, CallOutcome):
            return answer
        if isinstance(answer, EnginEdgeError):
            code = str(answer.details.get("code") or answer.code)
            return CallOutcome.failed(code, answer.message, retryable=answer.retryable)
        if isinstance(answer, Exception):
            raise answer
        return CallOutcome.completed(answer)

    async def available(self, worker_type: str, *, timeout: float = 3.0) -> bool:
        return worker_type not in self.down

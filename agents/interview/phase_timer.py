"""The timer side of phase time limits.

Faust tables can only be written while a command is processed, so the timer
never writes: each tick it reads the running phase clocks (``a/<session>``
keys) and, for every deadline that has passed, sends an
``interview.phase_timeout`` command to the worker's own requests topic with
an id made of session, phase and epoch. The handler re-checks the session
(a pause, resume or answer in between makes the command stale) and advances
the phase, recording it as timed out. The platform runs a command id once, so
a re-sent timeout is harmless; the timer also remembers what it sent.
"""

from __future__ import annotations

import time

from agents.interview.ports import Clock, CommandSender
from agents.interview.repository import InterviewRepository


def timeout_command_id(session_id: str, phase_index: int, epoch: int) -> str:
    return f"phase-timeout-{session_id}-{phase_index}-{epoch}"


class PhaseTimer:
    def __init__(
        self,
        repo: InterviewRepository,
        sender: CommandSender,
        clock: Clock,
        *,
        resend_after: float = 30.0,
    ) -> None:
        self.repo = repo
        self.sender = sender
        self.clock = clock
        self.resend_after = resend_after
        self._sent: dict[str, float] = {}

    async def tick(self) -> int:
        now = self.clock.now()
        mono = time.monotonic()
        self._sent = {k: t for k, t in self._sent.items() if mono - t < self.resend_after}
        sent = 0
        for session_id, clock in self.repo.running_clocks():
            if float(clock["deadline"]) > now:
                continue
            cid = timeout_command_id(session_id, int(clock["phase_index"]), int(clock["epoch"]))
            if cid in self._sent:
                continue
            payload = {
                "session_id": session_id,
                "phase_index": int(clock["phase_index"]),
                "epoch": int(clock["epoch"]),
            }
            await self.sender.send(cid, "interview.phase_timeout", payload)
            self._sent[cid] = mono
            sent += 1
        return sent

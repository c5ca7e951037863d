"""The timer side of phase time limits.

Faust tables can only be written while a command is processed, so the timer
never writes: each tick it reads the running phase clocks (``a/<session>``
keys) and, for every deadline that has passed, sends an
``interview.phase_timeout`` command to the worker's own requests topic with
an id made of session, phase and epoch. The handler re-checks the session
(a pause, resume or answer in between makes the command stale) and advances
the phase, recording it as timed out. The platform runs a command id once, so
a re-sent timeout is harmless; the timer also remembers what it sent.

A session and its clock are written as two keys; a worker killed between the two
changelog writes can come back with the session but not its clock. After every
recovery the timer therefore scans the sessions once and watches, until a command
rewrites them, the clocks of running sessions whose ``a/`` key is missing or stale.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from agents.interview.repository import InterviewRepository, clock_of
from enginedge_streams.ports.clock import Clock
from enginedge_streams.ports.command_sender import CommandSender
from enginedge_streams.records import Command

log = logging.getLogger("enginedge.interview.phase_timer")


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
        self._generation: int | None = None
        self._missing: set[str] = set()  # running sessions whose clock key was lost

    def _clocks(self) -> list[tuple[str, dict[str, Any]]]:
        generation = self.repo.generation()
        if generation != self._generation:
            self._generation = generation
            self._missing = self.repo.sessions_missing_their_clock()
            if self._missing:
                log.warning(
                    "%d running session(s) came back without their phase clock: %s",
                    len(self._missing),
                    ", ".join(sorted(self._missing)[:10]),
                )
        stored = dict(self.repo.running_clocks())
        for session_id in sorted(self._missing):
            session = self.repo.session(session_id)
            clock = None if session is None else clock_of(session)
            if clock is None or stored.get(session_id) == clock:
                self._missing.discard(session_id)  # over, or its clock was written since
            else:
                stored[session_id] = clock
        return list(stored.items())

    async def tick(self) -> int:
        """Send the due timeouts; returns how many were sent."""
        now = self.clock.timestamp()
        mono = time.monotonic()
        self._sent = {k: t for k, t in self._sent.items() if mono - t < self.resend_after}
        sent = 0
        for session_id, clock in self._clocks():
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
            command = Command(
                command_id=cid, command_type="interview.phase_timeout", payload=payload
            )
            await self.sender.send("interview", command)
            self._sent[cid] = mono
            sent += 1
        return sent

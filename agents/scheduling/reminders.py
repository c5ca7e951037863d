"""Reminders: which are due, and the timer-side scheduler that asks the worker to fire them.

Faust tables can only be written while a command is processed, so the timer
never writes: each tick it finds reminders whose time has come and that are
not yet recorded as fired, and sends a ``reminder.fire`` command to the
worker's own requests topic with a command id derived from the reminder key.
The command handler emits the ``reminder.due`` record and records the firing
in the table. The platform runs a command id once (a re-sent one re-publishes
its stored result), and the handler checks the fired record too, so a
reminder is emitted once even if the timer sends it again or the worker
restarts; reminders that fell due while the worker was down are fired on the
next start (``late: true``) within a catch-up window.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from agents.scheduling.compute import reminders_step
from agents.scheduling.due import DueReminder, reminders_between
from agents.scheduling.repository import SchedulingRepository
from enginedge_streams.errors import LimitExceededError
from enginedge_streams.ports.clock import Clock
from enginedge_streams.ports.command_sender import CommandSender
from enginedge_streams.ports.compute_pool import ComputePool
from enginedge_streams.records import Command

log = logging.getLogger("enginedge.scheduling.reminders")


#: reminders are commands to this worker itself
WORKER_TYPE = "scheduling"


def _digest(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


class ReminderScheduler:
    """Timer-side: keeps the next reminders in memory and sends ``reminder.fire`` when due."""

    def __init__(
        self,
        repo: SchedulingRepository,
        sender: CommandSender,
        clock: Clock,
        *,
        catchup: timedelta,
        horizon: timedelta = timedelta(minutes=10),
        resend_after: timedelta = timedelta(seconds=30),
        compute: ComputePool | None = None,
        step_timeout_s: float = 10.0,
    ) -> None:
        #: Where the expansion runs (the worker's compute pool); None: inline (tests).
        self.compute = compute
        self.step_timeout_s = step_timeout_s
        self.event_timeout_s = min(2.0, step_timeout_s)
        #: Stored bytes (digests) of events whose expansion overran: left out until they change.
        self.hostile: set[str] = set()
        self.repo = repo
        self.sender = sender
        self.clock = clock
        self.catchup = catchup
        self.horizon = horizon
        self.resend_after = resend_after
        self.upcoming: list[DueReminder] = []
        self.window_end: datetime | None = None
        self.seen_version: tuple[int, int] = (-1, -1)
        self.sent: dict[str, datetime] = {}

    async def _refresh(self, now: datetime) -> None:
        start = now - self.catchup
        window_end = now + self.horizon
        version = self.repo.version
        if self.compute is None:
            upcoming = reminders_between(self.repo.events_with_reminders(), start, window_end)
        else:
            upcoming = await self._scan(self.compute, start, window_end)
        self.upcoming, self.window_end, self.seen_version = upcoming, window_end, version

    async def _scan(
        self, compute: ComputePool, start: datetime, end: datetime
    ) -> list[DueReminder]:
        """All events in one step; if that overruns, event by event, skipping the hostile ones.

        An event whose expansion cannot finish in the step limit (a rule walked
        from years ago) is remembered by its stored bytes and left out of later
        scans until it changes, so one event cannot silence everyone's reminders.
        """
        blobs = [b for b in self.repo.reminder_event_blobs() if _digest(b) not in self.hostile]
        try:
            return await compute.run(
                reminders_step,
                blobs,
                start,
                end,
                timeout_s=self.step_timeout_s,
                limit_code="REMINDER_SCAN_TIME_LIMIT",
            )
        except LimitExceededError:
            log.warning(
                "the reminder scan overran %.0f s; scanning event by event", self.step_timeout_s
            )
        found: list[DueReminder] = []
        for blob in blobs:
            try:
                found.extend(
                    await compute.run(
                        reminders_step,
                        [blob],
                        start,
                        end,
                        timeout_s=self.event_timeout_s,
                        limit_code="REMINDER_SCAN_TIME_LIMIT",
                    )
                )
            except LimitExceededError:
                self.hostile.add(_digest(blob))
                log.warning("an event's reminders are skipped: its rule overran the scan limit")
        found.sort(key=lambda r: (r.due_at, r.key))
        return found

    async def tick(self) -> int:
        """Send every due, unfired reminder; return how many commands were sent."""
        now = self.clock.now()
        if (
            self.window_end is None
            or self.repo.version != self.seen_version
            or now >= self.window_end - self.horizon / 2
        ):
            await self._refresh(now)
        sent = 0
        for rem in self.upcoming:
            if rem.due_at > now:
                break
            last = self.sent.get(rem.key)
            if last is not None and now - last < self.resend_after:
                continue
            if self.repo.reminder_fired(rem.key) is not None:
                continue
            payload = {
                "key": rem.key,
                "calendar_id": rem.calendar_id,
                "event_id": rem.event_id,
                "recurrence_id": rem.recurrence_id,
                "minutes_before": rem.minutes_before,
                "due_at": rem.due_at.isoformat(),
            }
            await self.sender.send(
                WORKER_TYPE,
                Command(command_id=rem.command_id, command_type="reminder.fire", payload=payload),
            )
            self.sent[rem.key] = now
            sent += 1
        if len(self.sent) > 10_000:
            cutoff = now - self.catchup
            self.sent = {k: v for k, v in self.sent.items() if v >= cutoff}
        return sent

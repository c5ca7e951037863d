"""Which reminders fall due in a window: pure, so the compute pool's children can run it."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from agents.scheduling.model import Event
from agents.scheduling.recurrence import expand
from enginedge_streams.errors import EnginEdgeError

log = logging.getLogger("enginedge.scheduling.reminders")


@dataclass(frozen=True)
class DueReminder:
    key: str
    calendar_id: str
    event_id: str
    recurrence_id: str
    minutes_before: int
    due_at: datetime
    start: datetime
    title: str

    @property
    def command_id(self) -> str:
        return "reminder-" + hashlib.sha256(self.key.encode()).hexdigest()[:32]


def reminder_key(calendar_id: str, event_id: str, recurrence_id: str, minutes: int) -> str:
    return f"{calendar_id}/{event_id}/{recurrence_id}/{minutes}"


def reminders_between(events: list[Event], start: datetime, end: datetime) -> list[DueReminder]:
    """Reminders with ``start <= due_at < end``."""
    out: list[DueReminder] = []
    for ev in events:
        if not ev.reminders:
            continue
        longest = timedelta(minutes=max(ev.reminders))
        try:
            found = expand(ev, start, end + longest)
        except EnginEdgeError as exc:  # one bad rule must not silence everyone's reminders
            log.warning("reminders of event %s skipped: %s", ev.event_id, exc.message)
            continue
        for occ in found:
            for minutes in ev.reminders:
                due = occ.start - timedelta(minutes=minutes)
                if start <= due < end:
                    key = reminder_key(ev.calendar_id, ev.event_id, occ.recurrence_id, minutes)
                    out.append(
                        DueReminder(
                            key,
                            ev.calendar_id,
                            ev.event_id,
                            occ.recurrence_id,
                            minutes,
                            due,
                            occ.start,
                            occ.title,
                        )
                    )
    out.sort(key=lambda r: (r.due_at, r.key))
    return out

"""The scheduling worker's CPU-heavy steps, run in the compute pool's child processes.

Top-level functions of plain, picklable arguments: stored events travel as
their JSON bytes (decoded in the child, not on the event loop), results come
back as the JSON-ready dicts the handlers return. Recurrence expansion is lazy
and stops at the occurrence limit, and the pool kills a step at the command's
deadline, so a hostile rule (``FREQ=SECONDLY`` from years ago) costs one child,
never the worker's loop. The pool's children import this module once at start.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from agents.scheduling.due import DueReminder, reminders_between
from agents.scheduling.ics import ImportReport, export_calendar, read_calendar
from agents.scheduling.model import Calendar, Event, Occurrence, zone
from agents.scheduling.planner import Placed, PlanItem, Unplaced, plan
from agents.scheduling.recurrence import expand
from agents.scheduling.slots import Interval, conflicts, free_slots

Hours = Mapping[str, Sequence[tuple[str, str]]]


def decode_events(blobs: Sequence[bytes]) -> list[Event]:
    return [Event.model_validate_json(b) for b in blobs]


def occurrences(blobs: Sequence[bytes], start: datetime, end: datetime) -> list[Occurrence]:
    out: list[Occurrence] = []
    for ev in decode_events(blobs):
        out.extend(expand(ev, start, end))
    return out


def list_occurrences(
    blobs: Sequence[bytes], start: datetime, end: datetime, tz_name: str, limit: int
) -> tuple[list[dict[str, object]], bool]:
    found = occurrences(blobs, start, end)
    found.sort(key=lambda o: (o.start, o.event_id))
    tz = zone(tz_name)
    return [o.as_dict(tz) for o in found[:limit]], len(found) > limit


@dataclass(frozen=True)
class FreeTimeQuery:
    """Working hours in a zone, minus busy time with buffers, in ``[start, end)``."""

    start: datetime
    end: datetime
    tz_name: str
    hours: Hours
    buffer: timedelta
    min_length: timedelta


def free_time(blobs: Sequence[bytes], q: FreeTimeQuery) -> tuple[list[Interval], int]:
    """Free intervals in working hours, and how many busy occurrences were subtracted."""
    busy = occurrences(blobs, q.start - q.buffer, q.end + q.buffer)
    slots = free_slots(
        busy,
        start=q.start,
        end=q.end,
        tz=zone(q.tz_name),
        hours=q.hours,
        buffer=q.buffer,
        min_length=q.min_length,
    )
    return slots, len(busy)


def free_slots_step(blobs: Sequence[bytes], q: FreeTimeQuery, max_slots: int) -> dict[str, Any]:
    slots, busy = free_time(blobs, q)
    tz = zone(q.tz_name)
    return {
        "timezone": q.tz_name,
        "slots": [
            {
                "start": s.isoformat(),
                "end": e.isoformat(),
                "local_start": s.astimezone(tz).isoformat(),
                "local_end": e.astimezone(tz).isoformat(),
                "minutes": int((e - s).total_seconds() // 60),
            }
            for s, e in slots[:max_slots]
        ],
        "truncated": len(slots) > max_slots,
        "busy_occurrences": busy,
    }


def conflicts_step(
    proposed_event: Event,
    horizon_end: datetime,
    blobs: Sequence[bytes],
    buffer: timedelta,
) -> dict[str, Any]:
    assert proposed_event.start is not None
    start = proposed_event.start
    proposed = expand(proposed_event, start, horizon_end)
    existing = occurrences(blobs, start - buffer, horizon_end + buffer)
    pairs = conflicts(proposed, existing, buffer)
    return {
        "conflict": bool(pairs),
        "checked_occurrences": len(proposed),
        "conflicts": [
            {
                "proposed_start": p.start.isoformat(),
                "proposed_end": p.end.isoformat(),
                "with": e.as_dict(),
            }
            for p, e in pairs[:500]
        ],
    }


def plan_step(
    blobs: Sequence[bytes], items: list[PlanItem], q: FreeTimeQuery
) -> tuple[list[Placed], list[Unplaced]]:
    free, _ = free_time(blobs, q)
    return plan(items, free, buffer=q.buffer)


def occurrence_at(blob: bytes, start: datetime, recurrence_id: str) -> dict[str, object] | None:
    """The occurrence of one event starting at ``start`` with that recurrence id, if any."""
    (ev,) = decode_events([blob])
    window = timedelta(seconds=1)
    for o in expand(ev, start - window, start + window):
        if o.recurrence_id == recurrence_id and o.start == start:
            return {"title": o.title, "start": o.start}
    return None


def parse_ics_step(text: str, calendar_id: str, default_tz: str, now: datetime) -> ImportReport:
    return read_calendar(text, calendar_id, default_tz, now)


def export_ics_step(cal: Calendar, blobs: Sequence[bytes]) -> tuple[int, str]:
    events = decode_events(blobs)
    return len(events), export_calendar(cal, events)


def reminders_step(blobs: Sequence[bytes], start: datetime, end: datetime) -> list[DueReminder]:
    return reminders_between(decode_events(blobs), start, end)

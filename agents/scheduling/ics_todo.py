"""A VTODO as a stored planner task (``Task``), or a skipped item with a reason."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from agents.scheduling.ics_values import as_int, derived_uid, item, short, uid_to_event_id
from agents.scheduling.ics_zones import ImportReport, Zones
from agents.scheduling.model import Task
from enginedge_streams.errors import PermanentError

_ICAL_PRIORITY = {1: 5, 2: 5, 3: 4, 4: 4, 5: 3, 6: 2, 7: 2, 8: 1, 9: 1}  # RFC 5545 -> planner
TASK_DONE = "TASK_DONE"


def read_todo(
    comp: Any, report: ImportReport, zones: Zones, *, calendar_id: str, now: datetime
) -> None:
    """Append the VTODO to ``report.tasks`` or ``report.skipped``.

    A COMPLETED or CANCELLED to-do is skipped as ``TASK_DONE`` (the handler also
    removes a stored task with that UID: it is no longer open).
    """
    from agents.scheduling.messages import TaskIn

    uid = str(comp.get("uid") or "").strip() or derived_uid(comp)
    status = str(comp.get("status", "")).upper()
    if status in {"COMPLETED", "CANCELLED"} or comp.get("completed") is not None:
        report.skipped.append(item(comp, TASK_DONE, f"the task is {status or 'COMPLETED'}", uid))
        return
    try:
        start = comp.decoded("dtstart") if comp.get("dtstart") is not None else None
        due = comp.decoded("due") if comp.get("due") is not None else None
        minutes = 30
        if comp.get("duration") is not None:
            minutes = int(comp.decoded("duration").total_seconds() // 60)
        elif isinstance(start, datetime) and isinstance(due, datetime):
            minutes = int((due - start).total_seconds() // 60)
        minutes = max(5, min(minutes, 7 * 24 * 60))

        def when(value: Any) -> datetime | None:
            if isinstance(value, datetime):
                return zones.aware(value, zones.name_of(value, None, uid))
            if isinstance(value, date):
                return zones.aware(datetime.combine(value, time(0)), zones.default_tz)
            return None

        checked = TaskIn(
            task_id=uid_to_event_id(uid),
            title=str(comp.get("summary") or "(no title)")[:500],
            duration_minutes=minutes,
            priority=_ICAL_PRIORITY.get(as_int(comp.get("priority", 0)), 3),
            deadline=when(due),
            earliest_start=when(start),
        )
    except Exception as exc:
        code = exc.code if isinstance(exc, PermanentError) else "INVALID_TASK"
        report.skipped.append(item(comp, code, short(exc), uid))
        return
    report.tasks.append(
        Task(
            calendar_id=calendar_id,
            uid=uid,
            updated_at=now,
            **checked.model_dump(include={"task_id", "title", "duration_minutes", "priority",
                                           "deadline", "earliest_start"}),
        )
    )  # fmt: skip

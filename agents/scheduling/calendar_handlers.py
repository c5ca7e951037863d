"""Handlers for calendars and events: create, update, delete, get, list, free slots, conflicts."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from agents.scheduling import compute as steps
from agents.scheduling.messages import (
    Conflicts,
    CreateCalendar,
    CreateEvent,
    EventFields,
    EventRef,
    FreeSlots,
    ListEvents,
    OverrideIn,
    SlotQuery,
    UpdateEvent,
)
from agents.scheduling.model import Calendar, Event, Occurrence, Override, as_utc, zone
from agents.scheduling.recurrence import recurrence_key, validate_rrule
from agents.scheduling.repository import SchedulingRepository
from agents.scheduling.slots import DEFAULT_HOURS
from agents.scheduling.validation import validate_event
from enginedge_streams.errors import LimitExceededError, PermanentError, ValidationError
from enginedge_streams.handlers import CommandContext
from enginedge_streams.ports.clock import Clock
from enginedge_streams.ports.compute_pool import ComputePool

MAX_EVENTS_PER_CALENDAR = 50_000


def derived_id(kind: str, command_id: str) -> str:
    """A stable id for an object created by a command: re-running it finds the same object."""
    return f"{kind}-{hashlib.sha256(command_id.encode()).hexdigest()[:20]}"


async def handle_create_calendar(
    cmd: CreateCalendar, *, repo: SchedulingRepository, clock: Clock, ctx: CommandContext
) -> dict[str, Any]:
    zone(cmd.timezone)
    calendar_id = cmd.calendar_id or derived_id("cal", ctx.command_id)
    existing = repo.calendar(calendar_id)
    if existing is not None:
        if existing.name == cmd.name and existing.timezone == cmd.timezone:
            return {"calendar": existing.model_dump(mode="json"), "created": False}
        raise PermanentError(f"calendar {calendar_id!r} already exists", code="CALENDAR_EXISTS")
    cal = Calendar(
        calendar_id=calendar_id,
        name=cmd.name,
        timezone=cmd.timezone,
        owner_id=cmd.owner_id or ctx.user_id,
        created_at=clock.now(),
    )
    repo.save_calendar(cal)
    return {"calendar": cal.model_dump(mode="json"), "created": True}


def _exdate(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return as_utc(value)
    return datetime.combine(value, time(0), tzinfo=UTC)


def _override(ov: OverrideIn) -> tuple[str, Override]:
    rid = ov.recurrence_id
    key = recurrence_key(as_utc(rid) if isinstance(rid, datetime) else rid)
    return key, Override(
        start=as_utc(ov.start) if ov.start else None,
        end=as_utc(ov.end) if ov.end else None,
        title=ov.title,
        cancelled=ov.cancelled,
    )


def build_event(
    fields: EventFields, *, calendar: Calendar, event_id: str, uid: str, now: datetime
) -> Event:
    tz = fields.timezone or calendar.timezone
    zone(tz)
    if fields.rrule:
        validate_rrule(fields.rrule, tz)
    ev = Event(
        event_id=event_id,
        calendar_id=calendar.calendar_id,
        uid=uid,
        title=fields.title,
        description=fields.description,
        location=fields.location,
        all_day=fields.start_date is not None,
        start=as_utc(fields.start) if fields.start else None,
        end=as_utc(fields.end) if fields.end else None,
        start_date=fields.start_date,
        end_date=fields.end_date
        or (fields.start_date + timedelta(days=1) if fields.start_date else None),
        timezone=tz,
        rrule=fields.rrule or None,
        exdates=sorted({_exdate(d) for d in fields.exdates}),
        overrides=dict(_override(o) for o in fields.overrides),
        reminders=list(fields.reminders),
        busy=fields.busy,
        updated_at=now,
    )
    return validate_event(ev)


async def handle_create_event(
    cmd: CreateEvent, *, repo: SchedulingRepository, clock: Clock, ctx: CommandContext
) -> dict[str, Any]:
    cal = repo.require_calendar(cmd.calendar_id)
    event_id = cmd.event_id or derived_id("ev", ctx.command_id)
    existing = repo.event(cal.calendar_id, event_id)
    if existing is not None:
        if cmd.event_id is None:  # re-run of this very command
            return {"event": existing.model_dump(mode="json"), "created": False}
        raise PermanentError(f"event {event_id!r} already exists", code="EVENT_EXISTS")
    if len(repo.store.keys(f"ev:{cal.calendar_id}:")) >= MAX_EVENTS_PER_CALENDAR:
        raise LimitExceededError(f"calendar holds {MAX_EVENTS_PER_CALENDAR} events already")
    fields = EventFields.model_validate(cmd.model_dump(exclude={"calendar_id", "event_id"}))
    ev = build_event(
        fields, calendar=cal, event_id=event_id, uid=f"{event_id}@enginedge", now=clock.now()
    )
    repo.save_event(ev)
    return {"event": ev.model_dump(mode="json"), "created": True}


async def handle_update_event(
    cmd: UpdateEvent, *, repo: SchedulingRepository, clock: Clock
) -> dict[str, Any]:
    cal = repo.require_calendar(cmd.calendar_id)
    ev = repo.require_event(cmd.calendar_id, cmd.event_id)
    current = EventFields(
        title=ev.title,
        description=ev.description,
        location=ev.location,
        start=ev.start,
        end=ev.end,
        start_date=ev.start_date if ev.all_day else None,
        end_date=ev.end_date if ev.all_day else None,
        timezone=ev.timezone,
        rrule=ev.rrule,
        reminders=ev.reminders,
        busy=ev.busy,
    ).model_dump()
    changes = cmd.changes.model_dump(exclude_unset=True)
    if "start_date" in changes or "end_date" in changes:
        current.update(start=None, end=None)
    if "start" in changes or "end" in changes:
        current.update(start_date=None, end_date=None)
    current.update({k: v for k, v in changes.items() if k not in {"exdates", "overrides"}})
    try:
        fields = EventFields.model_validate(current)
    except Exception as exc:
        raise ValidationError(
            f"the updated event is invalid: {exc}", code="INVALID_UPDATE"
        ) from None
    updated = build_event(fields, calendar=cal, event_id=ev.event_id, uid=ev.uid, now=clock.now())
    updated.exdates = sorted(
        {
            *(
                [_exdate(d) for d in cmd.changes.exdates]
                if cmd.changes.exdates is not None
                else ev.exdates
            ),
            *(_exdate(d) for d in cmd.add_exdates),
        }
    )  # a set: re-running the same update adds nothing
    updated.overrides = (
        dict(_override(o) for o in cmd.changes.overrides)
        if cmd.changes.overrides is not None
        else dict(ev.overrides)
    )
    updated.overrides.update(dict(_override(o) for o in cmd.add_overrides))
    updated.sequence = ev.sequence + 1
    updated.external_ids = ev.external_ids
    # what event.update has no field for (imported RDATE/EXRULE, iTIP participants) is kept;
    # an RDATE is an instant, so it stays only while the event keeps its kind (timed/all-day)
    updated.rdates = ev.rdates if updated.all_day == ev.all_day else []
    updated.exrule = ev.exrule if updated.rrule else None
    updated.organizer, updated.attendees = ev.organizer, ev.attendees
    if updated.model_dump(exclude={"updated_at", "sequence"}) == ev.model_dump(
        exclude={"updated_at", "sequence"}
    ):
        return {"event": ev.model_dump(mode="json"), "changed": False}
    repo.save_event(updated)
    return {"event": updated.model_dump(mode="json"), "changed": True}


def remove_event(repo: SchedulingRepository, ev: Event) -> None:
    """Delete ``ev``; one with remote copies is remembered so the next sync deletes them."""
    repo.delete_event(ev)
    if ev.external_ids:
        repo.store.put(f"tomb:{ev.calendar_id}:{ev.event_id}", ev.model_dump_json().encode())


async def handle_delete_event(cmd: EventRef, *, repo: SchedulingRepository) -> dict[str, Any]:
    ev = repo.event(cmd.calendar_id, cmd.event_id)
    if ev is None:
        return {"deleted": False, "event_id": cmd.event_id}
    remove_event(repo, ev)
    return {"deleted": True, "event_id": cmd.event_id}


async def handle_get_event(cmd: EventRef, *, repo: SchedulingRepository) -> dict[str, Any]:
    return {"event": repo.require_event(cmd.calendar_id, cmd.event_id).model_dump(mode="json")}


async def handle_list_events(
    cmd: ListEvents, *, repo: SchedulingRepository, compute: ComputePool
) -> dict[str, Any]:
    cal = repo.require_calendar(cmd.calendar_id)
    start, end = as_utc(cmd.start), as_utc(cmd.end)
    if end <= start:
        raise ValidationError("end must be after start", code="INVALID_RANGE")
    tz_name = cmd.timezone or cal.timezone
    zone(tz_name)
    listed, truncated = await compute.run(
        steps.list_occurrences, repo.event_blobs(cal.calendar_id), start, end, tz_name, cmd.limit
    )
    return {"calendar_id": cal.calendar_id, "occurrences": listed, "truncated": truncated}


def event_blobs(
    repo: SchedulingRepository, calendar_ids: list[str], *, ignore_event: str | None = None
) -> list[bytes]:
    """The stored events of the calendars (which must exist), for a compute step."""
    out: list[bytes] = []
    for cid in dict.fromkeys(calendar_ids):
        repo.require_calendar(cid)
        out.extend(repo.event_blobs(cid, ignore=ignore_event))
    return out


def busy_occurrences(
    repo: SchedulingRepository,
    calendar_ids: list[str],
    start: datetime,
    end: datetime,
    *,
    ignore_event: str | None = None,
) -> list[Occurrence]:
    """Occurrences in the range, expanded here (tests and small callers; handlers use a step)."""
    return steps.occurrences(event_blobs(repo, calendar_ids, ignore_event=ignore_event), start, end)


def hours_of(q: SlotQuery) -> dict[str, list[tuple[str, str]]]:
    if q.working_hours is None:
        return dict(DEFAULT_HOURS)
    return {str(day): list(ranges) for day, ranges in q.working_hours.items()}


async def handle_free_slots(
    cmd: FreeSlots, *, repo: SchedulingRepository, compute: ComputePool
) -> dict[str, Any]:
    zone(cmd.timezone)
    min_len = timedelta(minutes=max(cmd.duration_minutes, cmd.min_slot_minutes or 0))
    result: dict[str, Any] = await compute.run(
        steps.free_slots_step,
        event_blobs(repo, cmd.calendar_ids),
        steps.FreeTimeQuery(
            start=as_utc(cmd.start),
            end=as_utc(cmd.end),
            tz_name=cmd.timezone,
            hours=hours_of(cmd),
            buffer=timedelta(minutes=cmd.buffer_minutes),
            min_length=min_len,
        ),
        cmd.max_slots,
    )
    return result


async def handle_conflicts(
    cmd: Conflicts, *, repo: SchedulingRepository, compute: ComputePool
) -> dict[str, Any]:
    start, end = as_utc(cmd.start), as_utc(cmd.end)
    if end <= start:
        raise ValidationError("end must be after start", code="INVALID_RANGE")
    zone(cmd.timezone)
    if cmd.rrule:
        validate_rrule(cmd.rrule, cmd.timezone)
    proposed_event = Event(
        event_id="proposed",
        calendar_id="",
        uid="proposed",
        title="proposed",
        start=start,
        end=end,
        timezone=cmd.timezone,
        rrule=cmd.rrule,
        updated_at=start,
    )
    horizon_end = start + timedelta(days=cmd.horizon_days) if cmd.rrule else end
    blobs = event_blobs(repo, cmd.calendar_ids, ignore_event=cmd.ignore_event_id)
    result: dict[str, Any] = await compute.run(
        steps.conflicts_step,
        proposed_event,
        horizon_end,
        blobs,
        timedelta(minutes=cmd.buffer_minutes),
    )
    return result

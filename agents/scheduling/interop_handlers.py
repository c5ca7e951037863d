"""Handlers for interop: ICS import/export and sync with remote calendars (last write wins)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pydantic

from agents.scheduling import compute as steps
from agents.scheduling import itip
from agents.scheduling.calendar_handlers import remove_event
from agents.scheduling.ics import Instance
from agents.scheduling.ics_todo import TASK_DONE
from agents.scheduling.ics_values import uid_to_event_id
from agents.scheduling.ics_zones import ImportReport
from agents.scheduling.messages import ExportIcs, ImportIcs, SyncCalendar
from agents.scheduling.model import Event
from agents.scheduling.ports import CalendarSyncProvider, RemoteEvent
from agents.scheduling.repository import SchedulingRepository
from agents.scheduling.validation import validate_event
from enginedge_streams.errors import DependencyUnavailableError, PermanentError
from enginedge_streams.handlers import CommandContext
from enginedge_streams.ports.clock import Clock
from enginedge_streams.ports.compute_pool import ComputePool


async def handle_import_ics(
    cmd: ImportIcs, *, repo: SchedulingRepository, clock: Clock, compute: ComputePool
) -> dict[str, Any]:
    """Store the file's events, apply its iTIP messages, store its open VTODOs as tasks.

    Every VEVENT is accounted for: ``counts`` says how many were read and how many
    became events, overrides, iTIP messages or skipped items; every event id is in
    ``imported``, ``updated``, ``unchanged`` or ``cancelled``; every skipped item
    carries a reason code.
    """
    cal = repo.require_calendar(cmd.calendar_id)
    now = clock.now()
    report = await compute.run(steps.parse_ics_step, cmd.ics, cal.calendar_id, cal.timezone, now)
    out: dict[str, list[str]] = {"imported": [], "updated": [], "unchanged": [], "cancelled": []}
    for ev in report.events:
        out[_store_imported(repo, ev)].append(ev.event_id)
    alone: set[str] = set()
    for inst in report.instances:
        _store_instance(repo, cal.calendar_id, inst, now=now, out=out, report=report, alone=alone)
    for msg in report.itip:
        _apply_message(repo, cal.calendar_id, msg, now=now, out=out, report=report)
    closed = []
    for skipped in report.skipped:
        if skipped["code"] == TASK_DONE:
            task_id = uid_to_event_id(skipped["uid"])
            if repo.delete_task(cal.calendar_id, task_id):
                closed.append(task_id)
    for task in report.tasks:
        repo.save_task(task)
    return {
        "calendar_id": cal.calendar_id,
        "method": report.method,
        **out,
        "skipped": report.skipped,
        "warnings": report.warnings,
        "counts": report.counts,
        "tasks": [t.model_dump(mode="json") for t in report.tasks],
        "tasks_closed": closed,
    }


def _store_imported(repo: SchedulingRepository, ev: Event) -> str:
    existing = repo.event(ev.calendar_id, ev.event_id)
    if existing is not None:
        ev.external_ids = existing.external_ids
        exclude = {"updated_at", "external_ids"}
        if existing.model_dump(exclude=exclude) == ev.model_dump(exclude=exclude):
            return "unchanged"
    repo.save_event(ev)
    return "imported" if existing is None else "updated"


def _store_instance(
    repo: SchedulingRepository,
    calendar_id: str,
    inst: Instance,
    *,
    now: datetime,
    out: dict[str, list[str]],
    report: ImportReport,
    alone: set[str],
) -> None:
    """A RECURRENCE-ID instance whose series is not in the file: an override of the stored
    series with that UID (RFC 5546 REQUEST/PUBLISH of one instance), else the first one
    per UID as a single event; a cancelled one without a stored series is skipped."""
    stored = repo.event_by_uid(calendar_id, inst.uid, uid_to_event_id(inst.uid))
    if stored is not None and (stored.rrule or stored.rdates):
        if stored.overrides.get(inst.key) == inst.override:
            out["unchanged"].append(stored.event_id)
            return
        stored.overrides[inst.key] = inst.override
        stored.sequence += 1
        stored.updated_at = now
        repo.save_event(stored)
        out["updated"].append(stored.event_id)
        return
    problem = inst.error
    if inst.uid in alone:
        problem = ("ORPHAN_OVERRIDE", "a second instance of a series that is not stored")
    elif inst.override.cancelled:
        problem = ("ORPHAN_OVERRIDE", "a cancelled instance of a series that is not stored")
    if inst.alone is None or problem[0]:
        report.skipped.append(
            {"component": "VEVENT", "uid": inst.uid, "code": problem[0], "message": problem[1]}
        )
        return
    alone.add(inst.uid)
    out[_store_imported(repo, inst.alone)].append(inst.alone.event_id)
    report.warn(
        inst.uid,
        "ORPHAN_OVERRIDE",
        "a RECURRENCE-ID instance whose series is neither in the file nor stored;"
        " imported as a single event",
    )


def _apply_message(
    repo: SchedulingRepository,
    calendar_id: str,
    msg: itip.ItipItem,
    *,
    now: datetime,
    out: dict[str, list[str]],
    report: ImportReport,
) -> None:
    """One iTIP message against the stored event with its UID (validated like every write)."""
    stored = repo.event_by_uid(calendar_id, msg.uid, uid_to_event_id(msg.uid))
    applied = itip.apply(msg, stored, now)
    for code, text in applied.notes:
        report.warn(msg.uid, code, text)
    if applied.action == "updated" and applied.event is not None:
        try:
            repo.save_event(validate_event(applied.event))
        except PermanentError as exc:
            applied = itip.Applied("skipped", code=exc.code, message=str(exc))
    elif applied.action == "cancelled" and stored is not None:
        remove_event(repo, stored)
    if applied.action == "skipped":
        report.skipped.append(
            {"component": "VEVENT", "uid": msg.uid, "code": applied.code,
             "message": f"{msg.method}: {applied.message}"[:300]}
        )  # fmt: skip
    elif stored is not None:
        out[applied.action].append(stored.event_id)


async def handle_export_ics(
    cmd: ExportIcs, *, repo: SchedulingRepository, compute: ComputePool
) -> dict[str, Any]:
    cal = repo.require_calendar(cmd.calendar_id)
    count, text = await compute.run(steps.export_ics_step, cal, repo.event_blobs(cal.calendar_id))
    return {"calendar_id": cal.calendar_id, "events": count, "ics": text}


def _apply_remote(
    local: Event | None, remote: RemoteEvent, calendar_id: str, provider: str, now: datetime
) -> Event:
    event_id = (
        local.event_id
        if local
        else "sync-" + hashlib.sha256(f"{provider}:{remote.external_id}".encode()).hexdigest()[:24]
    )
    fields: dict[str, Any] = {
        "event_id": event_id,
        "calendar_id": calendar_id,
        "uid": local.uid if local else (remote.uid or f"{event_id}@{provider}"),
        "title": remote.title or "(no title)",
        "description": remote.description,
        "location": remote.location,
        "all_day": remote.all_day,
        "timezone": remote.timezone,
        "rrule": remote.rrule,
        "updated_at": remote.updated_at or now,
        "external_ids": {**(local.external_ids if local else {}), provider: remote.external_id},
        "reminders": local.reminders if local else [],
        # carried by CalDAV only (whole iCalendar objects); otherwise kept from the local copy
        "rdates": remote.rdates if remote.extras_known else (local.rdates if local else []),
        "exrule": remote.exrule if remote.extras_known else (local.exrule if local else None),
        "organizer": remote.organizer
        if remote.extras_known
        else (local.organizer if local else ""),
        "attendees": remote.attendees
        if remote.extras_known
        else (local.attendees if local else []),
        "busy": local.busy if local else True,
        "sequence": (local.sequence + 1) if local else 0,
    }
    fields["exdates"] = remote.exdates if remote.exdates_known else (local.exdates if local else [])
    fields["overrides"] = (
        remote.overrides if remote.overrides_known else (local.overrides if local else {})
    )
    if local is not None and not remote.rrule_known:
        fields.update(rrule=local.rrule, exdates=local.exdates, overrides=local.overrides)
    if remote.all_day:
        fields.update(start_date=remote.start_date, end_date=remote.end_date)
    else:
        fields.update(start=remote.start, end=remote.end)
    return Event(**fields)


def _same(a: Event, b: Event) -> bool:
    fields = {"title", "description", "location", "all_day", "start", "end", "rrule"}
    fields |= {"exdates", "overrides", "rdates", "exrule", "organizer", "attendees"}
    if a.all_day:
        fields |= {"start_date", "end_date"}
    return a.model_dump(include=fields) == b.model_dump(include=fields)


def _pushed_key(calendar_id: str, provider: str, event_id: str) -> str:
    return f"pushed:{calendar_id}:{provider}:{event_id}"


async def handle_sync(
    cmd: SyncCalendar,
    *,
    repo: SchedulingRepository,
    clock: Clock,
    sync_providers: Mapping[str, CalendarSyncProvider],
    ctx: CommandContext,
) -> dict[str, Any]:
    cal = repo.require_calendar(cmd.calendar_id)
    provider = sync_providers.get(cmd.provider)
    if provider is None:
        raise PermanentError(
            f"sync provider {cmd.provider!r} is not configured on this worker",
            code="PROVIDER_NOT_CONFIGURED",
        )
    stats = {
        "pulled": 0,
        "created": 0,
        "updated": 0,
        "deleted": 0,
        "kept_local": 0,
        "pushed": 0,
        "remote_deleted": 0,
        "rejected": 0,
    }
    rejected: list[dict[str, str]] = []
    now = clock.now()
    try:
        if cmd.direction in ("pull", "both"):
            await _pull(cmd, repo, provider, stats, now, rejected=rejected)
        if cmd.direction in ("push", "both"):
            await _push(cmd, repo, provider, stats)
    except (OSError, TimeoutError) as exc:
        raise DependencyUnavailableError(f"{cmd.provider}: {exc}") from exc
    ctx.progress(**stats)
    return {
        "calendar_id": cal.calendar_id,
        "provider": cmd.provider,
        **stats,
        "rejected_items": rejected,
        "cursor_saved": repo.sync_cursor(cal.calendar_id, cmd.provider) is not None,
    }


async def _pull(
    cmd: SyncCalendar,
    repo: SchedulingRepository,
    provider: CalendarSyncProvider,
    stats: dict[str, int],
    now: datetime,
    *,
    rejected: list[dict[str, str]],
) -> None:
    cursor = repo.sync_cursor(cmd.calendar_id, cmd.provider)
    batch = await provider.pull(cmd.remote_calendar, cursor)
    for remote in batch.changes:
        stats["pulled"] += 1
        local = repo.event_by_external(cmd.calendar_id, cmd.provider, remote.external_id)
        remote_time = remote.updated_at or now
        pushed = _pushed_at(repo, cmd, local) if local is not None else None
        local_changed = local is not None and (pushed is None or local.updated_at > pushed)
        if cmd.conflict_policy == "remote_wins":
            local_newer = False
        elif cmd.conflict_policy == "local_wins":
            local_newer = local_changed
        else:
            local_newer = local_changed and local is not None and local.updated_at > remote_time
        if remote.deleted:
            if local is not None and not local_newer:
                repo.delete_event(local)
                repo.store.delete(_pushed_key(cmd.calendar_id, cmd.provider, local.event_id))
                stats["deleted"] += 1
            elif local is not None:
                stats["kept_local"] += 1
            continue
        if local_newer:
            stats["kept_local"] += 1  # last write wins: the local change is pushed below
            continue
        try:
            ev = validate_event(_apply_remote(local, remote, cmd.calendar_id, cmd.provider, now))
        except (PermanentError, pydantic.ValidationError) as exc:
            code = exc.code if isinstance(exc, PermanentError) else "INVALID_EVENT"
            stats["rejected"] += 1
            rejected.append(
                {"external_id": remote.external_id, "code": code, "message": str(exc)[:300]}
            )
            continue  # never stored; the local copy (if any) stays as it was
        if local is not None and _same(local, ev):
            continue  # our own push coming back, or no real change
        repo.save_event(ev)
        repo.store.put(
            _pushed_key(cmd.calendar_id, cmd.provider, ev.event_id),
            ev.updated_at.isoformat().encode(),
        )
        stats["updated" if local else "created"] += 1
    repo.save_sync_cursor(cmd.calendar_id, cmd.provider, batch.cursor)


def _pushed_at(repo: SchedulingRepository, cmd: SyncCalendar, ev: Event) -> datetime | None:
    raw = repo.store.get(_pushed_key(cmd.calendar_id, cmd.provider, ev.event_id))
    return None if raw is None else datetime.fromisoformat(raw.decode())


async def _push(
    cmd: SyncCalendar,
    repo: SchedulingRepository,
    provider: CalendarSyncProvider,
    stats: dict[str, int],
) -> None:
    for ev in repo.events(cmd.calendar_id):
        pushed = _pushed_at(repo, cmd, ev)
        if pushed is not None and ev.updated_at <= pushed and cmd.provider in ev.external_ids:
            continue
        remote_id = await provider.push(
            cmd.remote_calendar, RemoteEvent.of(ev, ev.external_ids.get(cmd.provider, ""))
        )
        if ev.external_ids.get(cmd.provider) != remote_id:
            ev.external_ids = {**ev.external_ids, cmd.provider: remote_id}
            repo.save_event(ev)
        repo.store.put(
            _pushed_key(cmd.calendar_id, cmd.provider, ev.event_id),
            ev.updated_at.isoformat().encode(),
        )
        stats["pushed"] += 1
    for key, raw in list(repo.store.scan(f"tomb:{cmd.calendar_id}:")):
        gone = Event.model_validate_json(raw)
        remote_id = gone.external_ids.pop(cmd.provider, "")
        if remote_id:
            await provider.delete(cmd.remote_calendar, remote_id)
            stats["remote_deleted"] += 1
        if gone.external_ids:
            repo.store.put(key, gone.model_dump_json().encode())
        else:
            repo.store.delete(key)

"""Handlers for interop: ICS import/export and sync with remote calendars (last write wins)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pydantic

from agents.scheduling import compute as steps
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
    cal = repo.require_calendar(cmd.calendar_id)
    report = await compute.run(
        steps.parse_ics_step, cmd.ics, cal.calendar_id, cal.timezone, clock.now()
    )
    created, updated, unchanged = [], [], []
    for ev in report.events:
        existing = repo.event(cal.calendar_id, ev.event_id)
        if existing is None:
            created.append(ev.event_id)
        else:
            ev.external_ids = existing.external_ids
            same = existing.model_dump(exclude={"updated_at", "external_ids"}) == ev.model_dump(
                exclude={"updated_at", "external_ids"}
            )
            if same:
                unchanged.append(ev.event_id)
                continue
            updated.append(ev.event_id)
        repo.save_event(ev)
    return {
        "calendar_id": cal.calendar_id,
        "imported": created,
        "updated": updated,
        "unchanged": unchanged,
        "skipped": report.skipped,
        "warnings": report.warnings,
        "tasks": report.tasks,
    }


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
    fields |= {"exdates", "overrides"}
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

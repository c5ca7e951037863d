"""The ``CalendarSyncProvider`` port on CalDAV (RFC 4791) with the ``caldav`` library.

Incremental pulls use the sync-collection REPORT (RFC 6578) through
``get_objects_by_sync_token``; deleted resources come back in
``deleted_urls``. Pushes PUT an iCalendar object named after its UID, so a
retried push overwrites instead of duplicating. The library is synchronous:
calls run in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from agents.scheduling.ics import export_calendar, parse_calendar
from agents.scheduling.model import Calendar, Event
from agents.scheduling.ports import RemoteEvent, SyncBatch
from enginedge_streams.errors import DependencyUnavailableError, PermanentError


class CaldavCalendarSync:
    name = "caldav"

    def __init__(
        self,
        url: str,
        username: str | None,
        password: str | None,
        *,
        timeout: float = 30.0,
        on_call: Callable[[bool], None] | None = None,
    ) -> None:
        self.url = url
        self.username = username
        self.password = password
        self.timeout = timeout
        self._client: Any = None
        #: metrics hook: ``error`` after every call
        self.on_call: Callable[[bool], None] = on_call or (lambda error: None)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await asyncio.to_thread(client.close)

    def _calendar(self, remote_calendar: str) -> Any:
        from caldav.davclient import DAVClient

        if self._client is None:
            self._client = DAVClient(
                url=self.url,
                username=self.username,
                password=self.password,
                timeout=int(self.timeout),
            )
        url = (
            remote_calendar
            if remote_calendar.startswith("http")
            else self.url.rstrip("/") + "/" + remote_calendar.lstrip("/")
        )
        return self._client.calendar(url=url)

    async def _run(self, fn: Any, *args: Any) -> Any:
        from caldav.lib import error

        try:
            result = await asyncio.wait_for(asyncio.to_thread(fn, *args), self.timeout + 5)
        except error.AuthorizationError as exc:
            self.on_call(True)
            raise PermanentError(
                f"caldav refused the credentials: {exc}", code="PROVIDER_AUTH"
            ) from exc
        except (error.DAVError, OSError, TimeoutError) as exc:
            self.on_call(True)
            raise DependencyUnavailableError(f"caldav: {type(exc).__name__}: {exc}") from exc
        self.on_call(False)
        return result

    def _pull_sync(self, remote_calendar: str, cursor: str | None) -> SyncBatch:
        cal = self._calendar(remote_calendar)
        result = cal.get_objects_by_sync_token(sync_token=cursor, load_objects=True)
        batch = SyncBatch(
            cursor=str(result.sync_token) if result.sync_token else None, full=cursor is None
        )
        now = datetime.now(UTC)
        for obj in result:
            url = str(obj.url)
            if obj.url.canonical() in getattr(result, "deleted_urls", set()) or not obj.data:
                batch.changes.append(RemoteEvent(external_id=url, deleted=True))
                continue
            for ev in parse_calendar(obj.data, "remote", "UTC", now):
                batch.changes.append(RemoteEvent.of(ev, url, complete=True))
        for gone in getattr(result, "deleted_urls", set()):
            if all(c.external_id != str(gone) for c in batch.changes):
                batch.changes.append(RemoteEvent(external_id=str(gone), deleted=True))
        return batch

    async def pull(self, remote_calendar: str, cursor: str | None) -> SyncBatch:
        batch: SyncBatch = await self._run(self._pull_sync, remote_calendar, cursor)
        return batch

    def _push_sync(self, remote_calendar: str, event: RemoteEvent) -> str:
        cal = self._calendar(remote_calendar)
        stored = Event(
            event_id="x",
            calendar_id="x",
            uid=event.uid,
            title=event.title,
            description=event.description,
            location=event.location,
            all_day=event.all_day,
            start=event.start,
            end=event.end,
            start_date=event.start_date,
            end_date=event.end_date,
            timezone=event.timezone,
            rrule=event.rrule,
            exdates=event.exdates,
            overrides=event.overrides,
            rdates=event.rdates,
            exrule=event.exrule,
            organizer=event.organizer,
            attendees=event.attendees,
            updated_at=event.updated_at or datetime.now(UTC),
        )
        ics = export_calendar(
            Calendar(
                calendar_id="x", name="x", timezone=event.timezone, created_at=stored.updated_at
            ),
            [stored],
        )
        obj = cal.save_event(ics)
        return str(obj.url)

    async def push(self, remote_calendar: str, event: RemoteEvent) -> str:
        url: str = await self._run(self._push_sync, remote_calendar, event)
        return url

    def _delete_sync(self, remote_calendar: str, external_id: str) -> None:
        from caldav.lib import error

        cal = self._calendar(remote_calendar)
        try:
            cal.event_by_url(external_id).delete()
        except error.NotFoundError:
            return

    async def delete(self, remote_calendar: str, external_id: str) -> None:
        await self._run(self._delete_sync, remote_calendar, external_id)

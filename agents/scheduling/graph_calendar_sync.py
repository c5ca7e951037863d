"""The ``CalendarSyncProvider`` port on Microsoft Graph (Outlook calendars), REST v1.0.

Subset used: ``calendarView/delta`` (``@odata.nextLink`` paging, the final
``@odata.deltaLink`` is the cursor; ``@removed`` items are deletions), event
create with ``transactionId`` = the iCalendar UID (Graph de-duplicates a
retried create), ``PATCH`` and ``DELETE`` on ``/me/events/{id}``. Times are
asked in UTC (``Prefer: outlook.timezone="UTC"``). Recurring events are pulled
as their expanded instances (that is what calendarView delta returns); pushing
a recurrence to Graph is not mapped (the series' first instance is pushed).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from agents.scheduling.ports import RemoteEvent, SyncBatch
from enginedge_streams.errors import DependencyUnavailableError, PermanentError, RateLimitedError


def _graph_time(obj: dict[str, Any]) -> datetime:
    raw = obj["dateTime"].replace("Z", "")
    if "." in raw:
        head, frac = raw.split(".", 1)
        raw = f"{head}.{frac[:6]}"
    value = datetime.fromisoformat(raw)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _from_item(item: dict[str, Any]) -> RemoteEvent:
    modified = item.get("lastModifiedDateTime")
    ev = RemoteEvent(
        external_id=item["id"],
        uid=item.get("iCalUId", "") or item.get("transactionId", "") or "",
        deleted="@removed" in item,
        rrule_known=False,
        updated_at=datetime.fromisoformat(modified.replace("Z", "+00:00")) if modified else None,
    )
    if ev.deleted:
        return ev
    ev.title = item.get("subject", "")
    ev.description = (item.get("body") or {}).get("content", "")
    ev.location = (item.get("location") or {}).get("displayName", "")
    start, end = _graph_time(item["start"]), _graph_time(item["end"])
    if item.get("isAllDay"):
        ev.all_day, ev.start_date, ev.end_date = True, start.date(), end.date()
    else:
        ev.start, ev.end = start, end
    ev.timezone = item.get("originalStartTimeZone") or "UTC"
    if ev.timezone not in _known_zones():
        ev.timezone = "UTC"
    return ev


def _known_zones() -> set[str]:
    import zoneinfo

    return zoneinfo.available_timezones()


def _to_body(ev: RemoteEvent) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": ev.title,
        "body": {"contentType": "text", "content": ev.description},
        "location": {"displayName": ev.location},
        "isAllDay": ev.all_day,
    }
    if ev.all_day:
        assert ev.start_date is not None
        assert ev.end_date is not None
        s = datetime.combine(ev.start_date, datetime.min.time())
        e = datetime.combine(ev.end_date, datetime.min.time())
    else:
        assert ev.start is not None
        assert ev.end is not None
        s, e = (
            ev.start.astimezone(UTC).replace(tzinfo=None),
            ev.end.astimezone(UTC).replace(tzinfo=None),
        )
    body["start"] = {"dateTime": s.isoformat(), "timeZone": "UTC"}
    body["end"] = {"dateTime": e.isoformat(), "timeZone": "UTC"}
    return body


class GraphCalendarSync:
    name = "microsoft"

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        window_past: timedelta = timedelta(days=30),
        window_future: timedelta = timedelta(days=365),
        on_call: Callable[[bool], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.window_past = window_past
        self.window_future = window_future
        self._client: httpx.AsyncClient | None = None
        #: metrics hook: ``error`` after every call
        self.on_call: Callable[[bool], None] = on_call or (lambda error: None)

    async def start(self) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self.timeout,
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "Prefer": 'outlook.timezone="UTC"',
                },
            )

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        await self.start()
        assert self._client is not None
        if not url.startswith("http"):
            url = f"{self.base_url}{url}"
        try:
            resp = await self._client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            self.on_call(True)
            raise DependencyUnavailableError(f"microsoft graph: {exc}") from exc
        self.on_call(resp.status_code >= 500 or resp.status_code in (401, 403, 429))
        if resp.status_code == 429:
            retry = float(resp.headers.get("Retry-After", "1"))
            raise RateLimitedError("microsoft graph throttled the request", retry_after=retry)
        if resp.status_code >= 500:
            raise DependencyUnavailableError(f"microsoft graph answered {resp.status_code}")
        if resp.status_code in (401, 403):
            raise PermanentError(
                f"microsoft graph refused the token ({resp.status_code})", code="PROVIDER_AUTH"
            )
        return resp

    async def pull(self, remote_calendar: str, cursor: str | None) -> SyncBatch:
        batch = SyncBatch(full=cursor is None)
        if cursor:
            url = cursor
            params: dict[str, str] | None = None
        else:
            now = datetime.now(UTC)
            url = f"/me/calendars/{quote(remote_calendar, safe='')}/calendarView/delta"
            params = {
                "startDateTime": (now - self.window_past).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "endDateTime": (now + self.window_future).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        while True:
            resp = await self._call("GET", url, params=params)
            if resp.status_code == 410 and cursor:  # delta token expired: full resync
                return await self.pull(remote_calendar, None)
            if resp.status_code != 200:
                raise PermanentError(f"graph delta answered {resp.status_code}: {resp.text[:200]}")
            data = resp.json()
            batch.changes.extend(_from_item(i) for i in data.get("value", []))
            if "@odata.nextLink" in data:
                url, params = data["@odata.nextLink"], None
                continue
            batch.cursor = data.get("@odata.deltaLink")
            return batch

    async def push(self, remote_calendar: str, event: RemoteEvent) -> str:
        body = _to_body(event)
        if event.external_id:
            resp = await self._call(
                "PATCH", f"/me/events/{quote(event.external_id, safe='')}", json=body
            )
            if resp.status_code != 404:
                self._check(resp, "update event")
                return str(resp.json()["id"])
        resp = await self._call(
            "POST",
            f"/me/calendars/{quote(remote_calendar, safe='')}/events",
            json={**body, "transactionId": event.uid},
        )
        self._check(resp, "create event")
        return str(resp.json()["id"])

    async def delete(self, remote_calendar: str, external_id: str) -> None:
        resp = await self._call("DELETE", f"/me/events/{quote(external_id, safe='')}")
        if resp.status_code not in (200, 204, 404):
            self._check(resp, "delete event")

    @staticmethod
    def _check(resp: httpx.Response, what: str) -> None:
        if resp.status_code >= 300:
            raise PermanentError(f"graph {what} answered {resp.status_code}: {resp.text[:200]}")

"""The ``CalendarSyncProvider`` port on the Google Calendar v3 REST API.

Subset used: ``events.list`` with ``syncToken`` incremental sync (a 410 Gone
means the token expired: full resync), paging with ``pageToken``;
``events.insert`` with a client-chosen id derived from the iCalendar UID (a
re-sent insert gets 409 and becomes an update, so a retried push never
duplicates); ``events.update``; ``events.delete``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx

from agents.scheduling.ports import RemoteEvent, SyncBatch
from enginedge_streams.errors import DependencyUnavailableError, PermanentError, RateLimitedError


def google_event_id(uid: str) -> str:
    """Google ids are base32hex (a-v, 0-9), 5-1024 chars."""
    digest = hashlib.sha256(uid.encode()).digest()
    return base64.b32hexencode(digest).decode().rstrip("=").lower()


def parse_exdate(line: str, default_tz: str) -> list[datetime]:
    """``EXDATE[;TZID=..][;VALUE=DATE]:v1,v2`` from a Google ``recurrence`` entry, as UTC."""
    head, _, values = line.partition(":")
    if not head.upper().startswith("EXDATE") or not values:
        return []
    params = dict(p.split("=", 1) for p in head.split(";")[1:] if "=" in p)
    try:
        tz = ZoneInfo(params.get("TZID", default_tz))
    except (ValueError, KeyError):
        tz = ZoneInfo("UTC")
    out = []
    for raw in (v.strip() for v in values.split(",")):
        try:
            if raw.endswith("Z"):
                out.append(datetime.strptime(raw, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC))
            elif "T" in raw:
                local = datetime.strptime(raw, "%Y%m%dT%H%M%S").replace(tzinfo=tz)
                out.append(local.astimezone(UTC))
            else:
                out.append(datetime.strptime(raw, "%Y%m%d").replace(tzinfo=UTC))
        except ValueError:
            continue  # one malformed value does not lose the others
    return out


def _parse_time(obj: dict[str, Any]) -> tuple[datetime | None, date | None, str | None]:
    if "dateTime" in obj:
        return (
            datetime.fromisoformat(obj["dateTime"].replace("Z", "+00:00")),
            None,
            obj.get("timeZone"),
        )
    if "date" in obj:
        return None, date.fromisoformat(obj["date"]), obj.get("timeZone")
    return None, None, None


def _from_item(item: dict[str, Any], default_tz: str) -> RemoteEvent:
    updated = item.get("updated")
    ev = RemoteEvent(
        external_id=item["id"],
        uid=item.get("iCalUID", ""),
        deleted=item.get("status") == "cancelled",
        updated_at=datetime.fromisoformat(updated.replace("Z", "+00:00")) if updated else None,
    )
    if ev.deleted:
        return ev
    start, start_date, tz = _parse_time(item.get("start", {}))
    end, end_date, _ = _parse_time(item.get("end", {}))
    ev.title = item.get("summary", "")
    ev.description = item.get("description", "")
    ev.location = item.get("location", "")
    ev.timezone = tz or default_tz
    ev.all_day = start_date is not None
    ev.start, ev.end, ev.start_date, ev.end_date = start, end, start_date, end_date
    rules = [r[6:] for r in item.get("recurrence", []) if r.upper().startswith("RRULE:")]
    ev.rrule = rules[0] if rules else None
    ev.exdates = [d for r in item.get("recurrence", []) for d in parse_exdate(r, ev.timezone)]
    ev.exdates_known = True
    return ev


def _to_body(ev: RemoteEvent) -> dict[str, Any]:
    body: dict[str, Any] = {
        "summary": ev.title,
        "description": ev.description,
        "location": ev.location,
        "iCalUID": ev.uid,
    }
    if ev.all_day:
        assert ev.start_date is not None
        assert ev.end_date is not None
        body["start"] = {"date": ev.start_date.isoformat()}
        body["end"] = {"date": ev.end_date.isoformat()}
    else:
        assert ev.start is not None
        assert ev.end is not None
        body["start"] = {"dateTime": ev.start.astimezone(UTC).isoformat(), "timeZone": ev.timezone}
        body["end"] = {"dateTime": ev.end.astimezone(UTC).isoformat(), "timeZone": ev.timezone}
    if ev.rrule:
        body["recurrence"] = [f"RRULE:{ev.rrule}"]
        if ev.exdates:
            values = ",".join(d.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") for d in ev.exdates)
            body["recurrence"].append(f"EXDATE:{values}")
    return body


class GoogleCalendarSync:
    name = "google"

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        default_tz: str = "UTC",
        on_call: Callable[[bool], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.default_tz = default_tz
        self._client: httpx.AsyncClient | None = None
        self.calls = 0
        #: metrics hook: ``error`` after every call
        self.on_call: Callable[[bool], None] = on_call or (lambda error: None)

    async def start(self) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self.timeout, headers={"Authorization": f"Bearer {self.token}"}
            )

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        await self.start()
        assert self._client is not None
        self.calls += 1
        try:
            resp = await self._client.request(method, f"{self.base_url}{path}", **kwargs)
        except httpx.HTTPError as exc:
            self.on_call(True)
            raise DependencyUnavailableError(f"google calendar: {exc}") from exc
        self.on_call(resp.status_code >= 500 or resp.status_code in (401, 403, 429))
        if resp.status_code == 429 or resp.status_code >= 500:
            raise (
                RateLimitedError(f"google calendar answered {resp.status_code}")
                if resp.status_code == 429
                else DependencyUnavailableError(f"google calendar answered {resp.status_code}")
            )
        if resp.status_code in (401, 403):
            raise PermanentError(
                f"google calendar refused the token ({resp.status_code})", code="PROVIDER_AUTH"
            )
        return resp

    def _events(self, calendar: str) -> str:
        return f"/calendars/{quote(calendar, safe='')}/events"

    async def pull(self, remote_calendar: str, cursor: str | None) -> SyncBatch:
        batch = SyncBatch(full=cursor is None)
        page: str | None = None
        while True:
            params: dict[str, str] = {"maxResults": "250", "showDeleted": "true"}
            if cursor:
                params["syncToken"] = cursor
            if page:
                params["pageToken"] = page
            resp = await self._call("GET", self._events(remote_calendar), params=params)
            if resp.status_code == 410 and cursor:  # sync token expired: start over
                return await self.pull(remote_calendar, None)
            if resp.status_code != 200:
                raise PermanentError(
                    f"google events.list answered {resp.status_code}: {resp.text[:200]}"
                )
            data = resp.json()
            batch.changes.extend(_from_item(i, self.default_tz) for i in data.get("items", []))
            page = data.get("nextPageToken")
            if not page:
                batch.cursor = data.get("nextSyncToken")
                return batch

    async def push(self, remote_calendar: str, event: RemoteEvent) -> str:
        body = _to_body(event)
        if event.external_id:
            path = f"{self._events(remote_calendar)}/{quote(event.external_id, safe='')}"
            resp = await self._call("PUT", path, json=body)
            if resp.status_code not in (404, 410):
                self._check(resp, "events.update")
                return str(resp.json()["id"])
        new_id = google_event_id(event.uid)
        resp = await self._call("POST", self._events(remote_calendar), json={**body, "id": new_id})
        if resp.status_code == 409:  # we created it before (a retried push): update it instead
            resp = await self._call("PUT", f"{self._events(remote_calendar)}/{new_id}", json=body)
        self._check(resp, "events.insert")
        return str(resp.json()["id"])

    async def delete(self, remote_calendar: str, external_id: str) -> None:
        resp = await self._call(
            "DELETE", f"{self._events(remote_calendar)}/{quote(external_id, safe='')}"
        )
        if resp.status_code not in (200, 204, 404, 410):
            self._check(resp, "events.delete")

    @staticmethod
    def _check(resp: httpx.Response, what: str) -> None:
        if resp.status_code >= 300:
            raise PermanentError(f"google {what} answered {resp.status_code}: {resp.text[:200]}")

"""Local HTTP servers speaking the subset of Google Calendar v3 and Microsoft Graph we use.

They keep a change log so incremental sync (sync tokens / delta links),
paging, tombstones, token expiry (410) and idempotent creates behave like the
real services. Bound to 127.0.0.1 on a free port; started inside the test's loop.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web


def _now_iso(offset: float) -> str:
    t = datetime.now(UTC) + timedelta(seconds=offset)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


@dataclass
class _Store:
    token: str
    page_size: int = 2
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)  # event ids, in change order
    requests: list[tuple[str, str]] = field(default_factory=list)
    clock_offset: float = 0.0  # seconds added to "now" (to make remote edits newer/older)

    def touch(self, event_id: str) -> None:
        self.log.append(event_id)

    def authorized(self, request: web.Request) -> bool:
        self.requests.append((request.method, request.path_qs))
        return request.headers.get("Authorization") == f"Bearer {self.token}"


class _FakeApi:
    """One local server: ``start`` binds a free port, the subclass's ``delete`` route is shared."""

    def __init__(self, token: str) -> None:
        self.s = _Store(token)
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def serve(self, app: web.Application, prefix: str) -> str:
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}{prefix}"
        return self.url

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def remote_delete(self, event_id: str) -> None:
        raise NotImplementedError

    async def delete(self, request: web.Request) -> web.Response:
        if not self.s.authorized(request):
            return web.json_response({}, status=401)
        event_id = request.match_info["id"]
        if event_id not in self.s.events:
            return web.json_response({}, status=404)
        self.remote_delete(event_id)
        return web.Response(status=204)


class FakeGoogleCalendar(_FakeApi):
    async def start(self) -> str:
        app = web.Application()
        base = "/calendar/v3/calendars/{cal}/events"
        app.router.add_get(base, self.list)
        app.router.add_post(base, self.insert)
        app.router.add_put(base + "/{id}", self.update)
        app.router.add_delete(base + "/{id}", self.delete)
        return await self.serve(app, "/calendar/v3")

    # remote-side edits made "by another client"
    def remote_upsert(self, event_id: str, **fields: Any) -> dict[str, Any]:
        item = self.s.events.get(
            event_id, {"id": event_id, "kind": "calendar#event", "status": "confirmed"}
        )
        item.update(fields, updated=_now_iso(self.s.clock_offset))
        self.s.events[event_id] = item
        self.s.touch(event_id)
        return item

    def remote_delete(self, event_id: str) -> None:
        self.s.events[event_id].update(status="cancelled", updated=_now_iso(self.s.clock_offset))
        self.s.touch(event_id)

    async def list(self, request: web.Request) -> web.Response:
        if not self.s.authorized(request):
            return web.json_response({"error": {"code": 401}}, status=401)
        q = request.query
        since = 0
        if "syncToken" in q:
            raw = q["syncToken"]
            if not raw.startswith("st-"):
                return web.json_response(
                    {"error": {"code": 410, "message": "fullSyncRequired"}}, status=410
                )
            since = int(raw[3:])
        ids = list(dict.fromkeys(reversed(self.s.log[since:])))[::-1]  # latest change per id
        if "syncToken" not in q:
            ids = [i for i in ids if self.s.events[i]["status"] != "cancelled"]
        start = int(q.get("pageToken", "0"))
        size = min(int(q.get("maxResults", "250")), self.s.page_size)
        page = ids[start : start + size]
        body: dict[str, Any] = {
            "kind": "calendar#events",
            "items": [self.s.events[i] for i in page],
        }
        if start + size < len(ids):
            body["nextPageToken"] = str(start + size)
        else:
            body["nextSyncToken"] = f"st-{len(self.s.log)}"
        return web.json_response(body)

    async def insert(self, request: web.Request) -> web.Response:
        if not self.s.authorized(request):
            return web.json_response({}, status=401)
        body = await request.json()
        event_id = body.get("id") or uuid.uuid4().hex
        if event_id in self.s.events:
            return web.json_response({"error": {"code": 409, "message": "duplicate"}}, status=409)
        body.pop("id", None)
        return web.json_response(self.remote_upsert(event_id, **body))

    async def update(self, request: web.Request) -> web.Response:
        if not self.s.authorized(request):
            return web.json_response({}, status=401)
        event_id = request.match_info["id"]
        if event_id not in self.s.events:
            return web.json_response({"error": {"code": 404}}, status=404)
        body = await request.json()
        body.pop("id", None)
        return web.json_response(self.remote_upsert(event_id, status="confirmed", **body))


class FakeGraph(_FakeApi):
    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.by_transaction: dict[str, str] = {}
        self._ids = itertools.count(1)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/v1.0/me/calendars/{cal}/calendarView/delta", self.delta)
        app.router.add_post("/v1.0/me/calendars/{cal}/events", self.create)
        app.router.add_patch("/v1.0/me/events/{id}", self.patch)
        app.router.add_delete("/v1.0/me/events/{id}", self.delete)
        return await self.serve(app, "/v1.0")

    def remote_upsert(self, event_id: str, **fields: Any) -> dict[str, Any]:
        item = self.s.events.get(event_id, {"id": event_id})
        item.update(fields, lastModifiedDateTime=_now_iso(self.s.clock_offset))
        item.pop("@removed", None)
        self.s.events[event_id] = item
        self.s.touch(event_id)
        return item

    def remote_delete(self, event_id: str) -> None:
        self.s.events[event_id] = {"id": event_id, "@removed": {"reason": "deleted"}}
        self.s.touch(event_id)

    async def delta(self, request: web.Request) -> web.Response:
        if not self.s.authorized(request):
            return web.json_response({}, status=401)
        q = request.query
        base = f"{self.url}/me/calendars/{request.match_info['cal']}/calendarView/delta"
        if "$deltatoken" in q:
            if q["$deltatoken"] == "expired":
                return web.json_response({"error": {"code": "SyncStateNotFound"}}, status=410)
            since, full = int(q["$deltatoken"]), False
        elif "$skiptoken" in q:
            since, full = int(q.get("since", "0")), q.get("full") == "1"
        else:
            if "startDateTime" not in q or "endDateTime" not in q:
                return web.json_response({"error": {"code": "BadRequest"}}, status=400)
            since, full = 0, True
        ids = list(dict.fromkeys(reversed(self.s.log[since:])))[::-1]
        if full:
            ids = [i for i in ids if "@removed" not in self.s.events[i]]
        start = int(q.get("$skiptoken", "0"))
        page = ids[start : start + self.s.page_size]
        body: dict[str, Any] = {"value": [self.s.events[i] for i in page]}
        if start + self.s.page_size < len(ids):
            extra = "&full=1" if full else f"&since={since}"
            body["@odata.nextLink"] = f"{base}?$skiptoken={start + self.s.page_size}{extra}"
        else:
            body["@odata.deltaLink"] = f"{base}?$deltatoken={len(self.s.log)}"
        return web.json_response(body)

    async def create(self, request: web.Request) -> web.Response:
        if not self.s.authorized(request):
            return web.json_response({}, status=401)
        body = await request.json()
        tx = body.get("transactionId")
        if tx and tx in self.by_transaction:  # Graph de-duplicates creates by transactionId
            return web.json_response(self.s.events[self.by_transaction[tx]], status=201)
        event_id = f"AAMk{next(self._ids)}"
        if tx:
            self.by_transaction[tx] = event_id
        item = self.remote_upsert(event_id, **body)
        return web.json_response(item, status=201)

    async def patch(self, request: web.Request) -> web.Response:
        if not self.s.authorized(request):
            return web.json_response({}, status=401)
        event_id = request.match_info["id"]
        if event_id not in self.s.events or "@removed" in self.s.events[event_id]:
            return web.json_response({}, status=404)
        return web.json_response(self.remote_upsert(event_id, **(await request.json())))

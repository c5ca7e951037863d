"""calendar.sync through the real adapters: Google Calendar and Microsoft Graph against local
servers speaking their REST subset, CalDAV against a real Radicale server on loopback.

The handler runs with the in-memory store (the table adapter is covered by the worker tests);
what is under test here is the HTTP/CalDAV protocol work and the last-write-wins merge.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta

import pytest

from agents.scheduling.caldav_calendar_sync import CaldavCalendarSync
from agents.scheduling.calendar_handlers import (
    handle_create_calendar,
    handle_create_event,
    handle_delete_event,
    handle_update_event,
)
from agents.scheduling.google_calendar_sync import GoogleCalendarSync
from agents.scheduling.graph_calendar_sync import GraphCalendarSync
from agents.scheduling.interop_handlers import handle_sync
from agents.scheduling.messages import (
    CreateCalendar,
    CreateEvent,
    EventRef,
    SyncCalendar,
    UpdateEvent,
)
from agents.scheduling.repository import SchedulingRepository
from enginedge_streams.errors import PermanentError
from enginedge_streams.testing.clock import FixedClock
from enginedge_streams.testing.key_value_store import InMemoryKeyValueStore
from tests.support.fake_calendar_apis import FakeGoogleCalendar, FakeGraph
from tests.support.workers import free_port
from tests.unit.scheduling.conftest import make_ctx

pytestmark = pytest.mark.timeout(120)
TOKEN = "ya29.test-token-never-logged"


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


async def _local(clock):
    repo = SchedulingRepository(InMemoryKeyValueStore())
    await handle_create_calendar(
        CreateCalendar(calendar_id="c", name="c", timezone="Europe/Paris"),
        repo=repo,
        clock=clock,
        ctx=make_ctx(),
    )
    one = {
        "event_id": "one",
        "title": "One",
        "start": utc(2026, 3, 2, 9),
        "end": utc(2026, 3, 2, 10),
    }
    two = {
        "event_id": "two",
        "title": "Two",
        "start": utc(2026, 3, 3, 9),
        "end": utc(2026, 3, 3, 10),
        "rrule": "FREQ=WEEKLY;COUNT=3",
        "exdates": [utc(2026, 3, 10, 9)],
        "overrides": [
            {
                "recurrence_id": utc(2026, 3, 17, 9),
                "start": utc(2026, 3, 17, 11),
                "end": utc(2026, 3, 17, 12),
                "title": "Two (moved)",
            }
        ],
    }
    for fields in (one, two):
        await handle_create_event(
            CreateEvent(calendar_id="c", **fields), repo=repo, clock=clock, ctx=make_ctx()
        )
    return repo


async def _sync(repo, clock, provider, name, remote, direction="both"):
    return await handle_sync(
        SyncCalendar(calendar_id="c", provider=name, remote_calendar=remote, direction=direction),
        repo=repo,
        clock=clock,
        sync_providers={name: provider},
        ctx=make_ctx(),
    )


async def test_google_calendar_incremental_sync_last_write_wins():
    fake = FakeGoogleCalendar(TOKEN)
    url = await fake.start()
    provider = GoogleCalendarSync(url, TOKEN)
    api_calls: list[bool] = []
    provider.on_call = api_calls.append  # the worker points this at worker_external_api_calls_total
    clock = FixedClock(datetime.now(UTC) - timedelta(minutes=5))
    try:
        repo = await _local(clock)
        fake.remote_upsert(
            "remote1",
            summary="From Google",
            start={"dateTime": "2026-03-04T08:00:00Z", "timeZone": "Europe/Paris"},
            end={"dateTime": "2026-03-04T09:00:00Z"},
            iCalUID="r1@google",
        )
        out = await _sync(repo, clock, provider, "google", "primary")
        assert (out["created"], out["pushed"]) == (1, 2)  # pulled the remote one, pushed our two
        assert {e["summary"] for e in fake.s.events.values()} == {"From Google", "One", "Two"}
        two = next(e for e in fake.s.events.values() if e["summary"] == "Two")
        assert two["recurrence"] == ["RRULE:FREQ=WEEKLY;COUNT=3", "EXDATE:20260310T090000Z"]
        pulled = next(e for e in repo.events("c") if e.title == "From Google")
        assert pulled.start == utc(2026, 3, 4, 8) and pulled.external_ids == {"google": "remote1"}
        # Paging + sync token: nothing changed remotely except our own pushes.
        again = await _sync(repo, clock, provider, "google", "primary")
        assert again["pushed"] == 0 and again["updated"] == 0 and again["created"] == 0
        assert any("syncToken=st-" in q for _, q in fake.s.requests)
        # A later remote edit wins over the older local copy.
        ext_one = repo.event("c", "one").external_ids["google"]
        fake.remote_upsert(ext_one, summary="One (edited in Google)")
        out = await _sync(repo, clock, provider, "google", "primary")
        assert out["updated"] == 1 and repo.event("c", "one").title == "One (edited in Google)"
        # A local edit newer than the remote one wins and is pushed.
        clock.at = datetime.now(UTC) + timedelta(minutes=1)
        await handle_update_event(
            UpdateEvent(calendar_id="c", event_id="one", changes={"title": "One (local)"}),
            repo=repo,
            clock=clock,
        )
        fake.s.clock_offset = -30
        fake.remote_upsert(ext_one, summary="One (older remote edit)")
        out = await _sync(repo, clock, provider, "google", "primary")
        assert out["kept_local"] == 1 and out["pushed"] == 1
        assert fake.s.events[ext_one]["summary"] == "One (local)"
        # conflict_policy="remote_wins": even an older remote edit replaces a newer local one.
        clock.at = datetime.now(UTC) + timedelta(minutes=2)
        await handle_update_event(
            UpdateEvent(calendar_id="c", event_id="one", changes={"title": "One (local 2)"}),
            repo=repo,
            clock=clock,
        )
        fake.remote_upsert(ext_one, summary="One (remote wins)")
        out = await handle_sync(
            SyncCalendar(
                calendar_id="c",
                provider="google",
                remote_calendar="primary",
                direction="pull",
                conflict_policy="remote_wins",
            ),
            repo=repo,
            clock=clock,
            sync_providers={"google": provider},
            ctx=make_ctx(),
        )
        assert out["updated"] == 1 and repo.event("c", "one").title == "One (remote wins)"
        # Remote delete -> local delete; local delete -> remote delete.
        fake.s.clock_offset = 120
        fake.remote_delete("remote1")
        await handle_delete_event(EventRef(calendar_id="c", event_id="two"), repo=repo)
        out = await _sync(repo, clock, provider, "google", "primary")
        assert out["deleted"] == 1 and out["remote_deleted"] == 1
        assert {e.event_id for e in repo.events("c")} == {"one"}
        assert {e["summary"] for e in fake.s.events.values() if e["status"] != "cancelled"} == {
            "One (remote wins)"
        }
        # An expired sync token (410) falls back to a full sync.
        repo.save_sync_cursor("c", "google", "expired-token")
        out = await _sync(repo, clock, provider, "google", "primary", direction="pull")
        assert out["pulled"] == 1 and repo.sync_cursor("c", "google").startswith("st-")
        # A bad token is a clear permanent error.
        bad = GoogleCalendarSync(url, "wrong")
        with pytest.raises(PermanentError) as exc:
            await _sync(repo, clock, bad, "google", "primary")
        assert exc.value.code == "PROVIDER_AUTH"
        await bad.stop()
        assert len(api_calls) > 10 and not any(api_calls)  # every call counted, none failed
    finally:
        await provider.stop()
        await fake.stop()


async def test_microsoft_graph_delta_sync_and_idempotent_create():
    fake = FakeGraph(TOKEN)
    url = await fake.start()
    provider = GraphCalendarSync(url, TOKEN)
    clock = FixedClock(datetime.now(UTC) - timedelta(minutes=5))
    try:
        repo = await _local(clock)
        for i in range(3):
            fake.remote_upsert(
                f"AAMk-r{i}",
                subject=f"Outlook {i}",
                isAllDay=False,
                start={"dateTime": f"2026-03-0{i + 4}T08:00:00.0000000", "timeZone": "UTC"},
                end={"dateTime": f"2026-03-0{i + 4}T09:00:00.0000000", "timeZone": "UTC"},
            )
        out = await _sync(repo, clock, provider, "microsoft", "cal-1")
        assert out["created"] == 3 and out["pushed"] == 2
        assert any("startDateTime=" in q for _, q in fake.s.requests)
        assert any("skiptoken" in q for _, q in fake.s.requests)  # paged through @odata.nextLink
        r0 = next(e for e in repo.events("c") if e.title == "Outlook 0")
        assert r0.start == utc(2026, 3, 4, 8) and r0.end == utc(2026, 3, 4, 9)
        # A push retried after a crash (no external id stored) is de-duplicated by transactionId.
        one = repo.event("c", "one")
        first_id = one.external_ids["microsoft"]
        one.external_ids = {}
        repo.save_event(one)
        repo.store.delete("pushed:c:microsoft:one")
        out = await _sync(repo, clock, provider, "microsoft", "cal-1", direction="push")
        assert repo.event("c", "one").external_ids["microsoft"] == first_id
        assert sum(1 for e in fake.s.events.values() if e.get("subject") == "One") == 1
        # Incremental: a remote delete arrives as @removed through the delta link.
        fake.s.clock_offset = 60
        fake.remote_delete("AAMk-r1")
        out = await _sync(repo, clock, provider, "microsoft", "cal-1", direction="pull")
        assert out["deleted"] == 1 and out["created"] == out["updated"] == 0  # own pushes ignored
        assert (
            repo.event("c", "two").rrule == "FREQ=WEEKLY;COUNT=3"
        )  # Graph carries no RRULE: ours kept
        assert "$deltatoken=" in repo.sync_cursor("c", "microsoft")
        assert "Outlook 1" not in {e.title for e in repo.events("c")}
    finally:
        await provider.stop()
        await fake.stop()


@pytest.fixture
def radicale(tmp_path):
    binary = shutil.which("radicale")
    if binary is None:
        pytest.fail("radicale is not installed (scripts/system-packages.txt; make system-deps)")
    port = free_port()
    proc = subprocess.Popen(
        [
            binary,
            "--server-hosts",
            f"127.0.0.1:{port}",
            "--storage-filesystem-folder",
            str(tmp_path / "dav"),
            "--auth-type",
            "none",
            "--logging-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    import socket

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    yield url
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


async def test_caldav_sync_against_real_radicale(radicale):
    import asyncio

    import caldav

    client = caldav.DAVClient(url=radicale, username="alice", password="pw")
    remote_cal = await asyncio.to_thread(
        lambda: client.principal().make_calendar(name="work", cal_id="work")
    )
    provider = CaldavCalendarSync(radicale, "alice", "pw")
    clock = FixedClock(datetime.now(UTC) - timedelta(minutes=5))
    try:
        repo = await _local(clock)
        out = await _sync(repo, clock, provider, "caldav", "alice/work/")
        assert out["pushed"] == 3 - 1 and out["pulled"] == 0  # "one" and "two" pushed
        objects = await asyncio.to_thread(
            lambda: [o.icalendar_component for o in remote_cal.events()]
        )
        assert {str(c["summary"]) for c in objects} == {"One", "Two"}
        assert {str(c["uid"]) for c in objects} == {"one@enginedge", "two@enginedge"}
        two = next(c for c in objects if str(c["summary"]) == "Two" and "rrule" in c)
        assert two["rrule"].to_ical() == b"FREQ=WEEKLY;COUNT=3" and two.get("exdate") is not None
        raw_two = await asyncio.to_thread(lambda: remote_cal.event_by_uid("two@enginedge").data)
        assert "RECURRENCE-ID" in raw_two and "Two (moved)" in raw_two  # the override travelled

        # Another CalDAV client edits "One" later and adds an event.
        def remote_edit():
            ev = remote_cal.event_by_uid("one@enginedge")
            comp = ev.icalendar_component
            comp["summary"] = "One (edited in CalDAV)"
            comp.pop("last-modified", None)
            comp.add("last-modified", datetime.now(UTC) + timedelta(minutes=1))
            ev.save()
            remote_cal.save_event(
                "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//other//EN\nBEGIN:VEVENT\nUID:other@x\n"
                "DTSTAMP:20260301T000000Z\nDTSTART;TZID=Europe/Paris:20260305T140000\n"
                "DTEND;TZID=Europe/Paris:20260305T150000\nSUMMARY:Added elsewhere\n"
                "RDATE;TZID=Europe/Paris:20260312T140000\n"
                "ATTENDEE;PARTSTAT=ACCEPTED:mailto:zoe@x.example\nEND:VEVENT\nEND:VCALENDAR\n"
            )

        await asyncio.to_thread(remote_edit)
        out = await _sync(repo, clock, provider, "caldav", "alice/work/")
        assert out["created"] == 1 and out["updated"] == 1 and out["pushed"] == 0
        assert repo.event("c", "one").title == "One (edited in CalDAV)"
        kept = repo.event("c", "two")  # came back from the server unchanged: not rewritten
        assert kept.exdates == [utc(2026, 3, 10, 9)] and list(kept.overrides) == [
            "2026-03-17T09:00:00Z"
        ]
        added = next(e for e in repo.events("c") if e.title == "Added elsewhere")
        assert added.start == utc(2026, 3, 5, 13) and added.timezone == "Europe/Paris"
        assert added.rdates == [utc(2026, 3, 12, 13)]  # RDATE and attendees travel over CalDAV
        assert [(a.email, a.partstat) for a in added.attendees] == [("zoe@x.example", "ACCEPTED")]
        # Incremental: nothing changed -> nothing pulled (sync-collection token).
        out = await _sync(repo, clock, provider, "caldav", "alice/work/", direction="pull")
        assert out["pulled"] == 0
        # Remote delete and local delete both propagate.
        await asyncio.to_thread(lambda: remote_cal.event_by_uid("other@x").delete())
        await handle_delete_event(EventRef(calendar_id="c", event_id="two"), repo=repo)
        out = await _sync(repo, clock, provider, "caldav", "alice/work/")
        assert out["deleted"] == 1 and out["remote_deleted"] == 1
        left = await asyncio.to_thread(
            lambda: [str(o.icalendar_component["summary"]) for o in remote_cal.events()]
        )
        assert left == ["One (edited in CalDAV)"]
    finally:
        await provider.stop()

"""ICS import per component: skipped items with reasons, derived UIDs, zones, VTODO, sync checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agents.scheduling.calendar_handlers import (
    handle_create_calendar,
    handle_create_event,
    handle_free_slots,
    handle_list_events,
)
from agents.scheduling.interop_handlers import handle_export_ics, handle_import_ics, handle_sync
from agents.scheduling.messages import (
    CreateCalendar,
    CreateEvent,
    ExportIcs,
    FreeSlots,
    ImportIcs,
    ListEvents,
    SyncCalendar,
)
from agents.scheduling.ports import RemoteEvent, SyncBatch
from enginedge_streams.errors import ValidationError
from enginedge_streams.testing.compute_pool import InProcessComputePool
from tests.unit.scheduling.conftest import make_ctx

COMPUTE = InProcessComputePool()


def vcal(*bodies: str, extra: str = "") -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
        + extra
        + "".join(f"BEGIN:VEVENT\r\n{b.strip()}\r\nEND:VEVENT\r\n" for b in bodies)
        + "END:VCALENDAR\r\n"
    )


async def _import(repo, clock, text, cid="c", tz="Europe/Berlin"):
    if repo.calendar(cid) is None:
        await handle_create_calendar(
            CreateCalendar(calendar_id=cid, name=cid, timezone=tz),
            repo=repo,
            clock=clock,
            ctx=make_ctx(),
        )
    return await handle_import_ics(
        ImportIcs(calendar_id=cid, ics=text), repo=repo, clock=clock, compute=COMPUTE
    )


def codes(items):
    return sorted(i["code"] for i in items)


GOOD = "UID:good\r\nDTSTART:20260310T090000Z\r\nDTEND:20260310T100000Z\r\nSUMMARY:Good"


async def test_bad_vevents_are_skipped_with_reasons_and_the_rest_imported(repo, clock):
    text = vcal(
        GOOD,
        "UID:nostart\r\nSUMMARY:No start",
        "UID:badrule\r\nDTSTART:20260310T090000Z\r\nRRULE:FREQ=INVALID_TYPE_CAUSES_ERROR",
        "UID:baddate\r\nDTSTART:INVALID-DATE\r\nDTEND:ALSO-INVALID",
        "UID:backwards\r\nDTSTART:20260310T100000Z\r\nDTEND:20260310T090000Z",
        "UID:good\r\nDTSTART:20260311T090000Z\r\nSUMMARY:Same UID again",
    )
    out = await _import(repo, clock, text)
    assert len(out["imported"]) == 1
    assert codes(out["skipped"]) == [
        "DUPLICATE_UID",
        "END_BEFORE_START",
        "INVALID_DTSTART",
        "INVALID_RRULE",
        "MISSING_DTSTART",
    ]
    assert all(s["message"] and s["component"] == "VEVENT" for s in out["skipped"])
    # Nothing invalid was stored: the whole calendar still lists, exports and gives free slots.
    listed = await handle_list_events(
        ListEvents(calendar_id="c", start=datetime(2026, 3, 1, tzinfo=UTC),
                   end=datetime(2026, 4, 1, tzinfo=UTC)),
        repo=repo, compute=COMPUTE,
    )  # fmt: skip
    assert [o["title"] for o in listed["occurrences"]] == ["Good"]
    assert (await handle_export_ics(ExportIcs(calendar_id="c"), repo=repo, compute=COMPUTE))[
        "events"
    ] == 1
    slots = await handle_free_slots(
        FreeSlots(calendar_ids=["c"], duration_minutes=30, start=datetime(2026, 3, 10, tzinfo=UTC),
                  end=datetime(2026, 3, 11, tzinfo=UTC), timezone="UTC"),
        repo=repo, compute=COMPUTE,
    )  # fmt: skip
    assert slots["busy_occurrences"] == 1


async def test_a_missing_uid_gets_a_stable_derived_uid(repo, clock):
    body = "DTSTART:20260310T090000Z\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:No UID"
    first = await _import(repo, clock, vcal(body))
    restamped = body.replace("DTSTAMP:20260101T000000Z", "DTSTAMP:20260202T000000Z")
    again = await _import(repo, clock, vcal(restamped))
    assert len(first["imported"]) == 1 and again["imported"] == []
    assert again["unchanged"] == first["imported"]  # same content, same UID, re-import is a no-op
    assert codes(first["warnings"]) == ["UID_DERIVED"]


async def test_zones_windows_custom_vtimezone_unknown_and_bom(repo, clock):
    custom = (
        "BEGIN:VTIMEZONE\r\nTZID:UTC+11\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
        "TZOFFSETFROM:+1100\r\nTZOFFSETTO:+1100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    )
    text = "\ufeff" + vcal(
        "UID:win\r\nDTSTART;TZID=Pacific Standard Time:20260310T090000\r\n"
        "DTEND;TZID=Pacific Standard Time:20260310T100000\r\nRRULE:FREQ=WEEKLY;COUNT=3",
        "UID:custom\r\nDTSTART;TZID=UTC+11:20260310T090000\r\nDTEND;TZID=UTC+11:20260310T100000",
        "UID:mars\r\nDTSTART;TZID=Mars/Olympus_Mons:20260310T090000",
        extra=custom,
    )
    out = await _import(repo, clock, text)
    assert len(out["imported"]) == 3 and out["skipped"] == []
    by_uid = {e.uid: e for e in repo.events("c")}
    assert by_uid["win"].timezone == "America/Los_Angeles"
    assert by_uid["win"].start == datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # PDT, -7
    assert by_uid["custom"].start == datetime(2026, 3, 9, 22, 0, tzinfo=UTC)  # +11
    assert by_uid["custom"].timezone not in {"Europe/Berlin", "UTC"}
    assert by_uid["mars"].timezone == "Europe/Berlin"  # read in the calendar's zone ...
    warn = [w for w in out["warnings"] if w["code"] == "UNKNOWN_TZID"]
    assert len(warn) == 1 and "Mars/Olympus_Mons" in warn[0]["message"]  # ... and said so


async def test_vtodo_becomes_a_planner_task_and_other_components_are_reported(repo, clock):
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
        "BEGIN:VTODO\r\nUID:t1\r\nSUMMARY:Write report\r\nDUE:20260315T170000Z\r\n"
        "DURATION:PT2H\r\nPRIORITY:1\r\nEND:VTODO\r\n"
        "BEGIN:VTODO\r\nUID:t2\r\nSUMMARY:Done\r\nSTATUS:COMPLETED\r\nEND:VTODO\r\n"
        "BEGIN:VJOURNAL\r\nUID:j\r\nDTSTART:20260310\r\nEND:VJOURNAL\r\n"
        "BEGIN:VFREEBUSY\r\nUID:f\r\nEND:VFREEBUSY\r\n"
        f"BEGIN:VEVENT\r\n{GOOD}\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:lonely\r\nRECURRENCE-ID:20260317T090000Z\r\n"
        "DTSTART:20260317T100000Z\r\nDTEND:20260317T110000Z\r\nSUMMARY:Moved\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    out = await _import(repo, clock, text)
    assert codes(out["skipped"]) == ["TASK_DONE", "UNSUPPORTED_COMPONENT", "UNSUPPORTED_COMPONENT"]
    assert "ORPHAN_OVERRIDE" in codes(out["warnings"]) and len(out["imported"]) == 2
    (task,) = out["tasks"]
    assert task["title"] == "Write report" and task["duration_minutes"] == 120
    assert task["priority"] == 5 and task["deadline"].startswith("2026-03-15T17:00")
    assert [t.task_id for t in repo.tasks("c")] == [task["task_id"]]  # stored, not only returned
    assert out["counts"] == {
        "vevents": 2, "event": 1, "override": 0, "instance": 1, "itip": 0, "skipped": 0
    }  # fmt: skip


async def test_create_validates_like_import(repo, clock):
    await _import(repo, clock, vcal(GOOD))
    with pytest.raises(ValidationError) as exc:
        await handle_create_event(
            CreateEvent(calendar_id="c", title="x", start=datetime(2026, 3, 10, tzinfo=UTC),
                        end=datetime(2026, 3, 10, 1, tzinfo=UTC), rrule="FREQ=NOPE"),
            repo=repo, clock=clock, ctx=make_ctx(),
        )  # fmt: skip
    assert exc.value.code == "INVALID_RRULE"


async def test_whole_file_garbage_is_a_reason_not_an_internal_error(repo, clock):
    for text in (
        "\ufeffBEGIN:VCALENDAR\nthis is not ical",
        "hello",
        "BEGIN:VCALENDAR\r\nEND:VCALENDAR",
    ):
        with pytest.raises(ValidationError) as exc:
            await _import(repo, clock, text)
        assert exc.value.code == "INVALID_ICS"


class _OneBatch:
    """A provider whose pull returns fixed remote events (the check under test is ours)."""

    name = "google"

    def __init__(self, changes):
        self.changes = changes

    async def pull(self, remote_calendar, cursor):
        return SyncBatch(changes=self.changes, cursor="c1")

    async def push(self, remote_calendar, event):
        return "pushed-" + event.uid

    async def delete(self, remote_calendar, external_id):
        return None


async def test_sync_pull_never_stores_an_invalid_remote_event(repo, clock):
    await _import(repo, clock, vcal(GOOD))
    start = datetime(2026, 3, 12, 9, tzinfo=UTC)
    good = RemoteEvent(external_id="r1", title="ok", start=start, end=start + timedelta(hours=1))
    bad_rule = RemoteEvent(
        external_id="r2", title="bad", start=start, end=start + timedelta(hours=1), rrule="FREQ=NO"
    )
    bad_zone = RemoteEvent(
        external_id="r3", title="zone", start=start, end=start, timezone="Mars/Olympus_Mons"
    )
    out = await handle_sync(
        SyncCalendar(calendar_id="c", provider="google", remote_calendar="p", direction="pull"),
        repo=repo, clock=clock, sync_providers={"google": _OneBatch([good, bad_rule, bad_zone])},
        ctx=make_ctx(),
    )  # fmt: skip
    assert out["created"] == 1 and out["rejected"] == 2
    assert sorted(r["code"] for r in out["rejected_items"]) == ["INVALID_RRULE", "INVALID_TIMEZONE"]
    assert sorted(e.title for e in repo.events("c")) == ["Good", "ok"]


async def test_a_files_vtimezone_does_not_leak_into_the_next_import(repo, clock):
    def with_zone(offset: str, uid: str) -> str:
        tz = (
            "BEGIN:VTIMEZONE\r\nTZID:Office\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
            f"TZOFFSETFROM:{offset}\r\nTZOFFSETTO:{offset}\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
        )
        return vcal(f"UID:{uid}\r\nDTSTART;TZID=Office:20260310T090000", extra=tz)

    await _import(repo, clock, with_zone("+0500", "five"))
    await _import(repo, clock, with_zone("-0300", "minus-three"))
    by_uid = {e.uid: e for e in repo.events("c")}
    assert by_uid["five"].start == datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
    assert by_uid["minus-three"].start == datetime(2026, 3, 10, 12, 0, tzinfo=UTC)

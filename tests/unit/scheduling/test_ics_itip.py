"""iTIP messages, derived starts, RDATE/EXRULE and stored VTODO tasks through the import handler."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agents.scheduling.calendar_handlers import handle_list_events
from agents.scheduling.interop_handlers import handle_export_ics
from agents.scheduling.messages import ExportIcs, ListEvents, PlanSchedule
from agents.scheduling.planning_handlers import handle_plan
from tests.unit.scheduling.conftest import make_ctx
from tests.unit.scheduling.test_ics_import_items import COMPUTE, _import, codes, vcal

SERIES = (
    "UID:weekly@x\r\nSEQUENCE:1\r\nDTSTART:20260302T090000Z\r\nDTEND:20260302T100000Z\r\n"
    "RRULE:FREQ=WEEKLY;COUNT=4\r\nSUMMARY:Standup\r\nORGANIZER:mailto:boss@x.example\r\n"
    "ATTENDEE;PARTSTAT=NEEDS-ACTION;CN=Ann:mailto:Ann@x.example\r\n"
    "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@x.example"
)


def itip(method: str, *bodies: str) -> str:
    return vcal(*bodies, extra=f"METHOD:{method}\r\n")


async def starts(
    repo, cid="c", lo=datetime(2026, 1, 1, tzinfo=UTC), hi=datetime(2027, 1, 1, tzinfo=UTC)
):
    out = await handle_list_events(
        ListEvents(calendar_id=cid, start=lo, end=hi, limit=1000), repo=repo, compute=COMPUTE
    )
    return [o["start"] for o in out["occurrences"]]


async def test_cancel_removes_the_stored_event_and_an_instance_cancel_one_occurrence(repo, clock):
    first = await _import(repo, clock, vcal(SERIES))
    (event_id,) = first["imported"]
    one = await _import(
        repo, clock, itip("CANCEL", "UID:weekly@x\r\nSEQUENCE:1\r\nRECURRENCE-ID:20260309T090000Z")
    )
    assert one["updated"] == [event_id] and one["counts"]["itip"] == 1
    assert len(await starts(repo)) == 3
    assert (await _import(repo, clock, itip("CANCEL", "UID:weekly@x\r\nSEQUENCE:1\r\n"
                                            "RECURRENCE-ID:20260309T090000Z")))["unchanged"] == [event_id]  # fmt: skip
    whole = await _import(repo, clock, itip("CANCEL", "UID:weekly@x\r\nSEQUENCE:2"))
    assert whole["cancelled"] == [event_id] and repo.event("c", event_id) is None
    assert await starts(repo) == []


async def test_messages_about_events_not_stored_are_reported_not_dropped(repo, clock):
    out = await _import(
        repo,
        clock,
        itip("CANCEL", "UID:nowhere@x", "UID:also-nowhere@x\r\nRECURRENCE-ID:20260309T090000Z"),
    )
    assert out["imported"] == out["updated"] == out["cancelled"] == []
    assert codes(out["skipped"]) == ["ITIP_TARGET_NOT_FOUND"] * 2
    assert out["method"] == "CANCEL"
    assert out["counts"] == {
        "vevents": 2, "event": 0, "override": 0, "instance": 0, "itip": 2, "skipped": 0
    }  # fmt: skip


async def test_stale_cancel_and_reply_are_refused(repo, clock):
    await _import(repo, clock, vcal(SERIES))
    out = await _import(repo, clock, itip("CANCEL", "UID:weekly@x\r\nSEQUENCE:0"))
    assert codes(out["skipped"]) == ["ITIP_STALE"] and len(await starts(repo)) == 4


async def test_reply_updates_the_attendees_partstat(repo, clock):
    (event_id,) = (await _import(repo, clock, vcal(SERIES)))["imported"]
    reply = "UID:weekly@x\r\nSEQUENCE:1\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:ann@X.example"
    out = await _import(repo, clock, itip("REPLY", reply))
    assert out["updated"] == [event_id]
    people = {a.email: a.partstat for a in repo.event("c", event_id).attendees}
    assert people == {"ann@x.example": "ACCEPTED", "bob@x.example": "NEEDS-ACTION"}
    assert (await _import(repo, clock, itip("REPLY", reply)))["unchanged"] == [event_id]
    crasher = "UID:weekly@x\r\nSEQUENCE:1\r\nATTENDEE;PARTSTAT=DECLINED:mailto:eve@x.example"
    out = await _import(repo, clock, itip("REPLY", crasher))
    assert out["updated"] == [event_id] and codes(out["warnings"]) == ["ITIP_ATTENDEE_ADDED"]
    bad = await _import(repo, clock, itip("REPLY", "UID:weekly@x\r\nSEQUENCE:1"))
    assert codes(bad["skipped"]) == ["ITIP_INVALID"]
    exported = await handle_export_ics(ExportIcs(calendar_id="c"), repo=repo, compute=COMPUTE)
    assert "PARTSTAT=ACCEPTED" in exported["ics"].replace("\r\n ", "")


async def test_refresh_counter_declinecounter_change_nothing_and_say_so(repo, clock):
    (event_id,) = (await _import(repo, clock, vcal(SERIES)))["imported"]
    before = repo.event("c", event_id)
    refresh = await _import(repo, clock, itip("REFRESH", "UID:weekly@x"))
    assert refresh["unchanged"] == [event_id]
    assert codes(refresh["warnings"]) == ["ITIP_NO_REPLY_SENT"]
    counter = await _import(
        repo, clock, itip("COUNTER", "UID:weekly@x\r\nDTSTART:20260302T150000Z\r\nSEQUENCE:1")
    )
    assert codes(counter["skipped"]) == ["ITIP_COUNTER_NOT_APPLIED"]
    assert (await _import(repo, clock, itip("DECLINECOUNTER", "UID:weekly@x")))["unchanged"] == [
        event_id
    ]
    assert repo.event("c", event_id) == before


async def test_add_puts_a_new_instance_into_the_stored_series(repo, clock):
    (event_id,) = (await _import(repo, clock, vcal(SERIES)))["imported"]
    add = "UID:weekly@x\r\nSEQUENCE:1\r\nDTSTART:20260305T140000Z\r\nDTEND:20260305T160000Z"
    out = await _import(repo, clock, itip("ADD", add))
    assert out["updated"] == [event_id]
    got = await starts(repo)
    assert "2026-03-05T14:00:00+00:00" in got and len(got) == 5
    lst = await handle_list_events(
        ListEvents(calendar_id="c", start=datetime(2026, 3, 5, tzinfo=UTC),
                   end=datetime(2026, 3, 6, tzinfo=UTC)), repo=repo, compute=COMPUTE)  # fmt: skip
    assert lst["occurrences"][0]["end"] == "2026-03-05T16:00:00+00:00"  # its own length
    no_start = await _import(repo, clock, itip("ADD", "UID:weekly@x\r\nSEQUENCE:1"))
    assert codes(no_start["skipped"]) == ["MISSING_DTSTART"]  # ADD carries the new instance


async def test_a_start_is_derived_only_where_rfc5545_fixes_it(repo, clock):
    out = await _import(
        repo,
        clock,
        vcal(
            "UID:d1\r\nDTEND:20260310T100000Z\r\nDURATION:PT90M",
            "UID:d2\r\nDTEND:20260310T100000Z",
            "UID:d3\r\nSUMMARY:nothing",
            "UID:r1\r\nRDATE:20260312T080000Z,20260311T080000Z",
        ),
    )
    assert codes(out["skipped"]) == ["MISSING_DTSTART", "MISSING_DTSTART"]
    assert codes(out["warnings"]) == ["DTSTART_DERIVED", "DTSTART_FROM_RDATE"]
    assert sorted(await starts(repo)) == [
        "2026-03-10T08:30:00+00:00",
        "2026-03-11T08:00:00+00:00",
        "2026-03-12T08:00:00+00:00",
    ]


RDATE_EVENT = (
    "UID:rd\r\nDTSTART;TZID=Europe/Berlin:20260302T090000\r\nDURATION:PT1H\r\n"
    "RRULE:FREQ=DAILY;COUNT=10\r\nEXRULE:FREQ=WEEKLY;BYDAY=SA,SU\r\n"
    "RDATE;TZID=Europe/Berlin:20260314T110000\r\n"
    "RDATE;VALUE=PERIOD:20260320T120000Z/PT3H\r\nRDATE;VALUE=DATE:20260321"
)


async def test_rdate_and_exrule_expand_and_round_trip(repo, clock):
    out = await _import(repo, clock, vcal(RDATE_EVENT))
    assert codes(out["warnings"]) == ["RDATE_IGNORED"]  # a DATE on a timed event, said so
    got = await starts(repo)
    # 10 days from Mon 2 March minus the weekend (EXRULE), plus two RDATEs
    assert len(got) == 8 + 2
    assert "2026-03-07T08:00:00+00:00" not in got and "2026-03-14T10:00:00+00:00" in got
    assert "2026-03-20T12:00:00+00:00" in got
    exported = (await handle_export_ics(ExportIcs(calendar_id="c"), repo=repo, compute=COMPUTE))[
        "ics"
    ]
    assert "EXRULE:FREQ=WEEKLY;BYDAY=SA,SU" in exported and "RDATE" in exported
    again = await _import(repo, clock, exported, cid="c2")
    assert again["skipped"] == [] and len(again["imported"]) == 1
    assert await starts(repo, "c2") == got


async def test_all_day_rdates(repo, clock):
    await _import(repo, clock, vcal("UID:h\r\nRDATE;VALUE=DATE:20260101,20260406,20261225"))
    assert await starts(repo) == [
        "2025-12-31T23:00:00+00:00",
        "2026-04-05T22:00:00+00:00",
        "2026-12-24T23:00:00+00:00",
    ]  # local midnights in the calendar's zone (Europe/Berlin)


@pytest.mark.parametrize("stored", [True, False])
async def test_imported_vtodos_are_planned_and_a_completed_one_is_closed(repo, clock, stored):
    todo = "BEGIN:VTODO\r\nUID:t1\r\nSUMMARY:Write report\r\nDURATION:PT2H\r\n{}END:VTODO\r\n"
    text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + todo.format("") + "END:VCALENDAR\r\n"
    (task,) = (await _import(repo, clock, text))["tasks"]
    plan = await handle_plan(
        PlanSchedule(calendar_ids=["c"], start=datetime(2026, 3, 3, tzinfo=UTC),
                     end=datetime(2026, 3, 4, tzinfo=UTC), timezone="UTC", stored_tasks=stored),
        repo=repo, clock=clock, ctx=make_ctx("schedule.plan"), compute=COMPUTE,
    )  # fmt: skip
    placed = [p["item_id"] for p in plan["placements"]]
    assert placed == ([task["task_id"]] if stored else [])
    done = text.replace("DURATION:PT2H\r\n", "STATUS:COMPLETED\r\n")
    out = await _import(repo, clock, done)
    assert out["tasks_closed"] == [task["task_id"]] and repo.tasks("c") == []


async def test_rscale_rules_are_refused_not_expanded_wrongly(repo, clock):
    leap = (
        "UID:leap\r\nDTSTART;VALUE=DATE:20120229\r\nRRULE:RSCALE=GREGORIAN;FREQ=YEARLY;SKIP=FORWARD"
    )
    out = await _import(repo, clock, vcal(leap))
    (item,) = out["skipped"]
    assert item["code"] == "INVALID_RRULE" and "RSCALE" in item["message"]


def test_every_write_path_is_validated_in_the_repository(repo):
    from agents.scheduling.model import Event
    from enginedge_streams.errors import ValidationError

    bad = Event(event_id="e", calendar_id="c", uid="u", title="t",
                start=datetime(2026, 3, 2, 10, tzinfo=UTC), end=datetime(2026, 3, 2, 9, tzinfo=UTC),
                updated_at=datetime(2026, 3, 2, tzinfo=UTC))  # fmt: skip
    for broken, code in (
        (bad, "END_BEFORE_START"),
        (bad.model_copy(update={"end": bad.start, "exrule": "FREQ=NOPE"}), "INVALID_RRULE"),
        (bad.model_copy(update={"end": bad.start, "timezone": "Mars/Base"}), "INVALID_TIMEZONE"),
    ):
        with pytest.raises(ValidationError) as exc:
            repo.save_event(broken)
        assert exc.value.code == code
    assert repo.events("c") == []


async def test_an_instance_of_a_stored_series_becomes_its_override(repo, clock):
    """RFC 5546: a REQUEST (or PUBLISH) of one instance updates the stored series."""
    (event_id,) = (await _import(repo, clock, vcal(SERIES)))["imported"]
    moved = (
        "UID:weekly@x\r\nSEQUENCE:2\r\nRECURRENCE-ID:20260309T090000Z\r\n"
        "DTSTART:20260309T130000Z\r\nDTEND:20260309T140000Z\r\nSUMMARY:Standup (late)"
    )
    gone = "UID:weekly@x\r\nRECURRENCE-ID:20260316T090000Z\r\nSTATUS:CANCELLED\r\nDTSTART:20260316T090000Z"
    out = await _import(repo, clock, itip("REQUEST", moved, gone))
    assert out["updated"] == [event_id, event_id] and out["imported"] == []
    assert out["counts"]["instance"] == 2 and out["skipped"] == []
    assert await starts(repo) == [
        "2026-03-02T09:00:00+00:00",
        "2026-03-09T13:00:00+00:00",
        "2026-03-23T09:00:00+00:00",
    ]
    assert (await _import(repo, clock, itip("REQUEST", moved, gone)))["unchanged"] == [event_id] * 2
    # without a stored series: the first instance alone, a cancelled one reported
    other = await _import(repo, clock, vcal(moved.replace("weekly@x", "else@x"), gone), cid="d")
    assert len(other["imported"]) == 1 and codes(other["skipped"]) == ["ORPHAN_OVERRIDE"]


async def test_a_cancel_for_a_vtodo_closes_the_stored_task(repo, clock):
    todo = "BEGIN:VTODO\r\nUID:t9\r\nSUMMARY:Call\r\nEND:VTODO\r\n"
    (task,) = (await _import(repo, clock, vcal().replace("END:VCALENDAR", todo + "END:VCALENDAR")))[
        "tasks"
    ]
    cancel = vcal(extra="METHOD:CANCEL\r\n" + todo)
    out = await _import(repo, clock, cancel)
    assert out["tasks_closed"] == [task["task_id"]] and repo.tasks("c") == []
    reply = await _import(repo, clock, vcal(extra="METHOD:REPLY\r\n" + todo))
    assert codes(reply["skipped"]) == ["ITIP_UNSUPPORTED"] and reply["tasks"] == []


async def test_event_update_keeps_what_it_has_no_field_for(repo, clock):
    from agents.scheduling.calendar_handlers import handle_update_event
    from agents.scheduling.messages import UpdateEvent

    (event_id,) = (await _import(repo, clock, vcal(RDATE_EVENT)))["imported"]
    before = repo.event("c", event_id)
    out = await handle_update_event(
        UpdateEvent(calendar_id="c", event_id=event_id, changes={"title": "Renamed"}),
        repo=repo,
        clock=clock,
    )
    after = repo.event("c", event_id)
    assert out["changed"] and after.title == "Renamed"
    assert (after.rdates, after.exrule, after.attendees) == (
        before.rdates,
        before.exrule,
        before.attendees,
    )
    assert len(await starts(repo)) == 10

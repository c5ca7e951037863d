"""Reminders (timer -> command -> one reminder.due), ICS round trip, key-value store contract."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from agents.scheduling.calendar_handlers import (
    handle_create_calendar,
    handle_create_event,
    handle_delete_event,
    handle_list_events,
)
from agents.scheduling.interop_handlers import handle_export_ics, handle_import_ics
from agents.scheduling.messages import (
    CreateCalendar,
    CreateEvent,
    EventRef,
    ExportIcs,
    FireReminder,
    ImportIcs,
    ListEvents,
)
from agents.scheduling.planning_handlers import handle_fire_reminder
from agents.scheduling.reminders import ReminderScheduler
from enginedge_streams.errors import ValidationError
from enginedge_streams.testing.compute_pool import InProcessComputePool
from enginedge_streams.testing.messaging import RecordingCommandSender as RecordingSender
from tests.unit.scheduling.conftest import make_ctx

COMPUTE = InProcessComputePool()

NY = ZoneInfo("America/New_York")


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


async def _cal(repo, clock, cid="c", tz="America/New_York"):
    await handle_create_calendar(
        CreateCalendar(calendar_id=cid, name=cid, timezone=tz),
        repo=repo,
        clock=clock,
        ctx=make_ctx(),
    )


async def test_reminder_timer_sends_once_and_handler_emits_once(repo, clock, publisher):
    await _cal(repo, clock)
    clock.at = utc(2026, 3, 2, 13, 0)
    await handle_create_event(
        CreateEvent(
            calendar_id="c",
            event_id="m",
            title="Meeting",
            start=utc(2026, 3, 2, 14, 0),
            end=utc(2026, 3, 2, 15),
            rrule="FREQ=DAILY;COUNT=2",
            reminders=[10, 30],
        ),
        repo=repo,
        clock=clock,
        ctx=make_ctx(),
    )
    sender = RecordingSender()
    sched = ReminderScheduler(
        repo, sender, clock, catchup=timedelta(hours=1), resend_after=timedelta(seconds=30)
    )
    assert await sched.tick() == 0
    clock.at = utc(2026, 3, 2, 13, 30)  # the 30-minute reminder is due now
    assert await sched.tick() == 1
    assert await sched.tick() == 0  # not re-sent within resend_after
    ((cid, ctype, payload),) = sender.commands
    assert ctype == "reminder.fire" and payload["minutes_before"] == 30
    cmd = FireReminder.model_validate(payload)
    first = await handle_fire_reminder(
        cmd, repo=repo, events_out=publisher, clock=clock, compute=COMPUTE
    )
    second = await handle_fire_reminder(
        cmd, repo=repo, events_out=publisher, clock=clock, compute=COMPUTE
    )
    assert first["emitted"] and not second["emitted"]
    ((key, record),) = publisher.published
    assert record["type"] == "reminder.due" and record["start"] == "2026-03-02T14:00:00+00:00"
    assert record["due_at"] == "2026-03-02T13:30:00+00:00" and record["late"] is False
    clock.at = utc(2026, 3, 2, 13, 51)  # fired reminders are never sent again; the 10-min one is
    assert await sched.tick() == 1
    assert sender.commands[-1][2]["minutes_before"] == 10 and sender.commands[-1][0] != cid


async def test_missed_reminders_are_fired_late_after_downtime_and_deleted_ones_are_not(
    repo, clock, publisher
):
    await _cal(repo, clock)
    clock.at = utc(2026, 3, 2, 8)
    for eid, hour in (("a", 9), ("b", 10)):
        await handle_create_event(
            CreateEvent(
                calendar_id="c",
                event_id=eid,
                title=eid,
                start=utc(2026, 3, 2, hour),
                end=utc(2026, 3, 2, hour, 30),
                reminders=[15],
            ),
            repo=repo,
            clock=clock,
            ctx=make_ctx(),
        )
    sender = RecordingSender()
    clock.at = utc(2026, 3, 2, 11)  # the worker was down from 8:00 to 11:00 (a "restart")
    sched = ReminderScheduler(repo, sender, clock, catchup=timedelta(hours=24))
    assert await sched.tick() == 2
    await handle_delete_event(EventRef(calendar_id="c", event_id="b"), repo=repo)
    results = [
        await handle_fire_reminder(
            FireReminder.model_validate(p),
            repo=repo,
            events_out=publisher,
            clock=clock,
            compute=COMPUTE,
        )
        for _, _, p in sender.commands
    ]
    assert [r["emitted"] for r in results] == [True, False]
    assert (
        publisher.published[0][1]["late"] is True and publisher.published[0][1]["event_id"] == "a"
    )
    assert await sched.tick() == 0  # both recorded as fired


async def test_ics_round_trip_keeps_events_recurrences_and_exceptions(repo, clock):
    await _cal(repo, clock, "src", "Europe/Paris")
    paris = ZoneInfo("Europe/Paris")
    await handle_create_event(
        CreateEvent(
            calendar_id="src",
            event_id="weekly",
            title="Weekly, with; commas",
            description="line1\nline2",
            location="Room 1",
            start=datetime(2026, 3, 2, 9, tzinfo=paris),
            end=datetime(2026, 3, 2, 10, tzinfo=paris),
            rrule="FREQ=WEEKLY;BYDAY=MO;UNTIL=20260601T000000Z",
            exdates=[datetime(2026, 3, 16, 9, tzinfo=paris)],
            overrides=[
                {
                    "recurrence_id": datetime(2026, 3, 23, 9, tzinfo=paris),
                    "start": datetime(2026, 3, 24, 11, tzinfo=paris),
                    "end": datetime(2026, 3, 24, 12, tzinfo=paris),
                    "title": "moved",
                }
            ],
            reminders=[15],
        ),
        repo=repo,
        clock=clock,
        ctx=make_ctx(),
    )
    await handle_create_event(
        CreateEvent(
            calendar_id="src",
            event_id="holiday",
            title="Holiday",
            start_date="2026-04-06",
            busy=False,
        ),
        repo=repo,
        clock=clock,
        ctx=make_ctx(),
    )
    exported = (await handle_export_ics(ExportIcs(calendar_id="src"), repo=repo, compute=COMPUTE))[
        "ics"
    ]
    parsed = icalendar.Calendar.from_ical(exported)  # valid RFC 5545 for an independent parser
    assert len(list(parsed.walk("VEVENT"))) == 3 and list(parsed.walk("VTIMEZONE"))
    await _cal(repo, clock, "dst", "Europe/Paris")
    imported = await handle_import_ics(
        ImportIcs(calendar_id="dst", ics=exported), repo=repo, clock=clock, compute=COMPUTE
    )
    assert len(imported["imported"]) == 2
    again = await handle_import_ics(
        ImportIcs(calendar_id="dst", ics=exported),
        repo=repo,
        clock=clock,
        compute=COMPUTE,
    )
    assert again["imported"] == [] and len(again["unchanged"]) == 2  # idempotent per UID

    async def occurrences(cid):
        out = await handle_list_events(
            ListEvents(calendar_id=cid, start=utc(2026, 1, 1), end=utc(2027, 1, 1)),
            repo=repo,
            compute=COMPUTE,
        )
        return [
            (o["start"], o["end"], o["title"], o["all_day"], o["busy"]) for o in out["occurrences"]
        ]

    assert await occurrences("src") == await occurrences("dst")
    src_occ = await occurrences("src")
    assert len(src_occ) == 13 + 1 - 1  # 13 Mondays to 1 June, minus the exception, plus the holiday
    assert (
        "2026-03-24T10:00:00+00:00",
        "2026-03-24T11:00:00+00:00",
        "moved",
        False,
        True,
    ) in src_occ
    ev = repo.event("dst", imported["imported"][0]) or repo.event("dst", imported["imported"][1])
    restored = {e.title: e for e in repo.events("dst")}
    assert restored["Weekly, with; commas"].reminders == [15]
    assert restored["Weekly, with; commas"].description == "line1\nline2"
    assert restored["Weekly, with; commas"].timezone == "Europe/Paris" and ev is not None
    re_exported = (
        await handle_export_ics(ExportIcs(calendar_id="dst"), repo=repo, compute=COMPUTE)
    )["ics"]
    await _cal(repo, clock, "third", "Europe/Paris")
    await handle_import_ics(
        ImportIcs(calendar_id="third", ics=re_exported), repo=repo, clock=clock, compute=COMPUTE
    )
    assert await occurrences("third") == src_occ
    # All-day dates are floating (RFC 5545): in a UTC calendar the holiday is the UTC day.
    await _cal(repo, clock, "utc", "UTC")
    await handle_import_ics(
        ImportIcs(calendar_id="utc", ics=re_exported), repo=repo, clock=clock, compute=COMPUTE
    )
    holiday = [o for o in await occurrences("utc") if o[2] == "Holiday"]
    assert holiday == [
        ("2026-04-06T00:00:00+00:00", "2026-04-07T00:00:00+00:00", "Holiday", True, False)
    ]


async def test_import_rejects_garbage(repo, clock):
    await _cal(repo, clock)
    with pytest.raises(ValidationError) as exc:
        await handle_import_ics(
            ImportIcs(calendar_id="c", ics="BEGIN:VCALENDAR\nthis is not ical"),
            repo=repo,
            clock=clock,
            compute=COMPUTE,
        )
    assert exc.value.code == "INVALID_ICS"

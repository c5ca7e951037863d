"""Calendars, events, recurrence (RRULE/EXDATE/overrides), DST, free slots, conflicts."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError as PydanticValidationError

from agents.scheduling.calendar_handlers import (
    handle_conflicts,
    handle_create_calendar,
    handle_create_event,
    handle_delete_event,
    handle_free_slots,
    handle_list_events,
    handle_update_event,
)
from agents.scheduling.messages import (
    Conflicts,
    CreateCalendar,
    CreateEvent,
    EventRef,
    FreeSlots,
    ListEvents,
    UpdateEvent,
)
from agents.scheduling.slots import free_slots, naive_free_slots, working_windows
from enginedge_streams.errors import NotFoundError, PermanentError, ValidationError
from enginedge_streams.testing.compute_pool import InProcessComputePool
from tests.unit.scheduling.conftest import make_ctx

COMPUTE = InProcessComputePool()

NY = ZoneInfo("America/New_York")
Z = UTC


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=Z)


async def _calendar(repo, clock, cid="work", tz="America/New_York"):
    await handle_create_calendar(
        CreateCalendar(calendar_id=cid, name=cid, timezone=tz),
        repo=repo,
        clock=clock,
        ctx=make_ctx(),
    )


async def _event(repo, clock, calendar_id="work", **fields):
    """An event via event.create; the (New York) calendar is created first if missing."""
    if repo.calendar(calendar_id) is None:
        await _calendar(repo, clock, calendar_id)
    out = await handle_create_event(
        CreateEvent(calendar_id=calendar_id, **fields), repo=repo, clock=clock, ctx=make_ctx()
    )
    return out["event"]


async def _list(repo, **query):
    return await handle_list_events(ListEvents(**query), repo=repo, compute=COMPUTE)


async def _slots(repo, **query):
    return await handle_free_slots(FreeSlots(**query), repo=repo, compute=COMPUTE)


async def _conflicts(repo, **query):
    return await handle_conflicts(Conflicts(**query), repo=repo, compute=COMPUTE)


async def test_calendar_create_is_idempotent_and_validates_zone(repo, clock):
    ctx = make_ctx()
    a = await handle_create_calendar(
        CreateCalendar(name="A", timezone="Europe/Paris"), repo=repo, clock=clock, ctx=ctx
    )
    b = await handle_create_calendar(
        CreateCalendar(name="A", timezone="Europe/Paris"), repo=repo, clock=clock, ctx=ctx
    )
    assert (
        a["created"]
        and not b["created"]
        and a["calendar"]["calendar_id"] == b["calendar"]["calendar_id"]
    )
    with pytest.raises(ValidationError) as exc:
        await handle_create_calendar(
            CreateCalendar(name="B", timezone="Mars/Olympus"),
            repo=repo,
            clock=clock,
            ctx=make_ctx(),
        )
    assert exc.value.code == "INVALID_TIMEZONE"


async def test_weekly_recurrence_with_exception_and_override(repo, clock):
    ev = await _event(
        repo,
        clock,
        event_id="sync",
        title="Weekly sync",
        start=datetime(2026, 2, 2, 10, tzinfo=NY),
        end=datetime(2026, 2, 2, 11, tzinfo=NY),
        rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=8",
        exdates=[datetime(2026, 2, 16, 10, tzinfo=NY)],  # Presidents' Day: skipped
    )
    assert ev["rrule"] == "FREQ=WEEKLY;BYDAY=MO;COUNT=8"
    # Move the 2 March occurrence to 14:00 and retitle it.
    await handle_update_event(
        UpdateEvent(
            calendar_id="work",
            event_id="sync",
            changes={},
            add_overrides=[
                {
                    "recurrence_id": datetime(2026, 3, 2, 10, tzinfo=NY),
                    "start": datetime(2026, 3, 2, 14, tzinfo=NY),
                    "end": datetime(2026, 3, 2, 15, tzinfo=NY),
                    "title": "Weekly sync (moved)",
                }
            ],
        ),
        repo=repo,
        clock=clock,
    )
    out = await _list(repo, calendar_id="work", start=utc(2026, 1, 1), end=utc(2026, 12, 31))
    occ = out["occurrences"]
    days = [o["local_start"][:10] for o in occ]
    assert days == [
        "2026-02-02",
        "2026-02-09",
        "2026-02-23",
        "2026-03-02",
        "2026-03-09",
        "2026-03-16",
        "2026-03-23",
    ]  # 8 by COUNT minus the exception
    moved = occ[3]
    assert moved["title"] == "Weekly sync (moved)" and moved["local_start"].startswith(
        "2026-03-02T14:00"
    )
    # DST: 9 March is after the US spring-forward (8 March) - still 10:00 local, now 14:00Z.
    assert occ[4]["local_start"] == "2026-03-09T10:00:00-04:00"
    assert occ[4]["start"] == "2026-03-09T14:00:00+00:00"
    assert occ[1]["start"] == "2026-02-09T15:00:00+00:00"


async def test_cancelled_override_and_range_queries(repo, clock):
    await _event(
        repo,
        clock,
        event_id="daily",
        title="Standup",
        start=datetime(2026, 3, 2, 9, 30, tzinfo=NY),
        end=datetime(2026, 3, 2, 9, 45, tzinfo=NY),
        rrule="RRULE:FREQ=DAILY;UNTIL=20260306T235959",
        overrides=[{"recurrence_id": datetime(2026, 3, 4, 9, 30, tzinfo=NY), "cancelled": True}],
    )
    out = await _list(repo, calendar_id="work", start=utc(2026, 3, 3), end=utc(2026, 3, 10))
    assert [o["local_start"][:10] for o in out["occurrences"]] == [
        "2026-03-03",
        "2026-03-05",
        "2026-03-06",
    ]


async def test_all_day_events_block_the_local_day(repo, clock):
    await _calendar(repo, clock, "home", "Europe/Berlin")
    await _event(
        repo,
        clock,
        calendar_id="home",
        event_id="trip",
        title="Trip",
        start_date=date(2026, 7, 1),
        end_date=date(2026, 7, 3),
    )
    out = await _list(repo, calendar_id="home", start=utc(2026, 6, 1), end=utc(2026, 8, 1))
    (occ,) = out["occurrences"]
    assert (
        occ["all_day"]
        and occ["start"] == "2026-06-30T22:00:00+00:00"
        and occ["end"] == "2026-07-02T22:00:00+00:00"
    )
    slots = await _slots(
        repo,
        calendar_ids=["home"],
        start=utc(2026, 6, 30),
        end=utc(2026, 7, 4),
        timezone="Europe/Berlin",
        duration_minutes=60,
    )
    assert {s["local_start"][:10] for s in slots["slots"]} == {"2026-06-30", "2026-07-03"}


async def test_free_slots_across_spring_forward_day(repo, clock):
    await _event(
        repo,
        clock,
        event_id="standup",
        title="Standup",
        start=datetime(2026, 3, 2, 9, 30, tzinfo=NY),
        end=datetime(2026, 3, 2, 10, tzinfo=NY),
        rrule="FREQ=DAILY",
    )
    every_day = {d: [("08:00", "12:00")] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    ny = {"calendar_ids": ["work"], "timezone": "America/New_York", "duration_minutes": 30}
    out = await _slots(
        repo,
        **ny,
        start=datetime(2026, 3, 7, tzinfo=NY),
        end=datetime(2026, 3, 9, tzinfo=NY),
        working_hours=every_day,
    )
    got = [(s["start"], s["end"]) for s in out["slots"]]
    assert got == [
        ("2026-03-07T13:00:00+00:00", "2026-03-07T14:30:00+00:00"),  # EST (UTC-5)
        ("2026-03-07T15:00:00+00:00", "2026-03-07T17:00:00+00:00"),
        ("2026-03-08T12:00:00+00:00", "2026-03-08T13:30:00+00:00"),  # EDT (UTC-4)
        ("2026-03-08T14:00:00+00:00", "2026-03-08T16:00:00+00:00"),
    ]
    assert [s["local_start"][11:16] for s in out["slots"]] == ["08:00", "10:00", "08:00", "10:00"]
    # Working hours that span the gap (02:00-03:00 does not exist): 01:00-04:00 is 2 real hours.
    night = {"sun": [("01:00", "04:00")]}
    sunday = (datetime(2026, 3, 8, tzinfo=NY), datetime(2026, 3, 9, tzinfo=NY))
    out = await _slots(repo, **ny, start=sunday[0], end=sunday[1], working_hours=night)
    assert [s["minutes"] for s in out["slots"]] == [120]


async def test_free_slots_several_calendars_buffers_and_min_length(repo, clock):
    await _calendar(repo, clock, "a", "UTC")
    await _calendar(repo, clock, "b", "UTC")
    await _event(
        repo, clock, calendar_id="a", title="A", start=utc(2026, 3, 2, 10), end=utc(2026, 3, 2, 11)
    )
    await _event(
        repo, clock, calendar_id="b", title="B", start=utc(2026, 3, 2, 13), end=utc(2026, 3, 2, 14)
    )
    await _event(
        repo,
        clock,
        calendar_id="b",
        title="Free time",
        start=utc(2026, 3, 2, 15),
        end=utc(2026, 3, 2, 16),
        busy=False,
    )
    out = await _slots(
        repo,
        calendar_ids=["a", "b"],
        start=utc(2026, 3, 2),
        end=utc(2026, 3, 3),
        timezone="UTC",
        duration_minutes=60,
        buffer_minutes=15,
        min_slot_minutes=90,
    )
    got = [(s["start"][11:16], s["end"][11:16]) for s in out["slots"]]
    # 9-17 minus 9:45-11:15 and 12:45-14:15; slots shorter than 90 min are dropped.
    assert got == [("11:15", "12:45"), ("14:15", "17:00")]
    with pytest.raises(NotFoundError):
        await _slots(
            repo,
            calendar_ids=["nope"],
            start=utc(2026, 3, 2),
            end=utc(2026, 3, 3),
            duration_minutes=30,
        )


def test_free_slots_match_the_naive_reference_on_random_calendars(repo):
    from agents.scheduling.model import Occurrence

    rnd = random.Random(7)
    hours = {
        "mon": [("08:00", "12:00"), ("13:00", "18:00")],
        "tue": [("09:00", "17:00")],
        "wed": [("09:00", "17:00")],
        "sat": [("10:00", "14:00")],
    }
    start = datetime(2026, 3, 5, tzinfo=NY)
    for _ in range(5):
        occ = []
        for i in range(40):
            s = start + timedelta(minutes=15 * rnd.randrange(0, 4 * 24 * 6))
            occ.append(
                Occurrence(
                    str(i),
                    "c",
                    "r",
                    s.astimezone(Z),
                    (s + timedelta(minutes=15 * rnd.randint(1, 8))).astimezone(Z),
                    "t",
                    False,
                    rnd.random() > 0.1,
                )
            )
        kw = dict(
            start=start.astimezone(Z),
            end=(start + timedelta(days=6)).astimezone(Z),
            tz=NY,
            hours=hours,
            buffer=timedelta(minutes=10),
            min_length=timedelta(minutes=30),
        )
        windows = working_windows(kw["start"], kw["end"], NY, hours)
        naive = naive_free_slots(occ, windows, kw["buffer"], kw["min_length"])
        assert free_slots(occ, **kw) == naive


async def test_conflicts_for_a_recurring_proposal(repo, clock):
    await _event(
        repo,
        clock,
        event_id="review",
        title="Review",
        start=datetime(2026, 3, 11, 15, tzinfo=NY),
        end=datetime(2026, 3, 11, 16, tzinfo=NY),
    )
    out = await _conflicts(
        repo,
        calendar_ids=["work"],
        start=datetime(2026, 3, 2, 15, 30, tzinfo=NY),
        end=datetime(2026, 3, 2, 16, 30, tzinfo=NY),
        timezone="America/New_York",
        rrule="FREQ=WEEKLY;BYDAY=MO,WE",
        horizon_days=30,
    )
    assert out["conflict"] and len(out["conflicts"]) == 1
    assert out["conflicts"][0]["with"]["event_id"] == "review"
    right_after = {
        "calendar_ids": ["work"],
        "start": datetime(2026, 3, 11, 16, tzinfo=NY),
        "end": datetime(2026, 3, 11, 17, tzinfo=NY),
        "timezone": "America/New_York",
    }
    assert not (await _conflicts(repo, **right_after))["conflict"]
    out = await _conflicts(repo, **right_after, buffer_minutes=10)
    assert out["conflict"]


async def test_update_delete_and_errors(repo, clock):
    await _event(
        repo,
        clock,
        event_id="e1",
        title="One",
        start=utc(2026, 3, 2, 15),
        end=utc(2026, 3, 2, 16),
        reminders=[10, 5, 10],
    )
    out = await handle_update_event(
        UpdateEvent(calendar_id="work", event_id="e1", changes={"title": "Uno"}),
        repo=repo,
        clock=clock,
    )
    assert (
        out["changed"] and out["event"]["title"] == "Uno" and out["event"]["reminders"] == [5, 10]
    )
    assert out["event"]["sequence"] == 1
    with pytest.raises(ValidationError) as exc:
        await handle_update_event(
            UpdateEvent(calendar_id="work", event_id="e1", changes={"end": utc(2026, 3, 2, 14)}),
            repo=repo,
            clock=clock,
        )
    assert exc.value.code == "INVALID_UPDATE"
    with pytest.raises(PermanentError) as exc:
        await _event(
            repo,
            clock,
            calendar_id="work",
            event_id="e1",
            title="dup",
            start=utc(2026, 3, 2),
            end=utc(2026, 3, 2, 1),
        )
    assert exc.value.code == "EVENT_EXISTS"
    with pytest.raises(ValidationError) as exc:
        await _event(
            repo,
            clock,
            calendar_id="work",
            title="bad",
            start=utc(2026, 3, 2),
            end=utc(2026, 3, 2, 1),
            rrule="FREQ=SOMETIMES",
        )
    assert exc.value.code == "INVALID_RRULE"
    assert (await handle_delete_event(EventRef(calendar_id="work", event_id="e1"), repo=repo))[
        "deleted"
    ]
    assert not (await handle_delete_event(EventRef(calendar_id="work", event_id="e1"), repo=repo))[
        "deleted"
    ]


def test_payload_validation_rejects_bad_input():
    with pytest.raises(PydanticValidationError):
        CreateEvent(
            calendar_id="c", title="x", start=datetime(2026, 1, 1), end=datetime(2026, 1, 1, 1)
        )  # naive
    with pytest.raises(PydanticValidationError):
        CreateEvent(
            calendar_id="c",
            title="x",
            start=utc(2026, 1, 1),
            end=utc(2026, 1, 1, 1),
            start_date=date(2026, 1, 1),
        )
    with pytest.raises(PydanticValidationError):
        CreateEvent(
            calendar_id="c", title="x", start=utc(2026, 1, 1), end=utc(2026, 1, 1, 1), surprise=1
        )
    with pytest.raises(PydanticValidationError):
        FreeSlots(
            calendar_ids=["c"], start=utc(2026, 1, 1), end=utc(2028, 1, 1), duration_minutes=30
        )
    with pytest.raises(PydanticValidationError):
        FreeSlots(
            calendar_ids=["c"],
            start=utc(2026, 1, 1),
            end=utc(2026, 1, 2),
            duration_minutes=30,
            working_hours={"mon": [("17:00", "09:00")]},
        )


async def test_dtstart_off_the_rule_pattern_is_the_first_instance(repo, clock):
    """RFC 5545: DTSTART always counts, even when the RRULE would not produce it."""
    await _calendar(repo, clock, "c", "UTC")
    await _event(
        repo,
        clock,
        calendar_id="c",
        title="x",
        start=utc(2026, 3, 2, 9),
        end=utc(2026, 3, 2, 10),
        rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=3",
    )
    out = await _list(repo, calendar_id="c", start=utc(2026, 3, 1), end=utc(2026, 4, 1))
    assert [o["start"][:10] for o in out["occurrences"]] == [
        "2026-03-02",
        "2026-03-03",
        "2026-03-10",
        "2026-03-17",
    ]

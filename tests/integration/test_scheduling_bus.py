"""The scheduling worker on the real Kafka and Redis (one worker process for the module)."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from enginedge_streams.records import Status
from tests.support.workers import http_get

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def scheduling_worker(module_worker_factory):
    return module_worker_factory("scheduling", env={"REMINDER_INTERVAL_SECONDS": "1"})


async def _ok(bus, ctype, payload, **fields):
    result = await bus.call("scheduling", ctype, payload, timeout=60, **fields)
    assert result.status is Status.COMPLETED, (ctype, result.error)
    return result.result


async def test_calendar_events_free_slots_and_conflicts_over_the_bus(scheduling_worker, module_bus):
    bus = module_bus
    cal = f"ny-{uuid.uuid4().hex[:6]}"
    await _ok(
        bus, "calendar.create", {"calendar_id": cal, "name": "NY", "timezone": "America/New_York"}
    )
    # Many commands, spread over all partitions, about one calendar: all must see each other.
    creates = [
        bus.call(
            "scheduling",
            "event.create",
            {
                "calendar_id": cal,
                "event_id": f"e{i}",
                "title": f"Meeting {i}",
                "start": f"2026-03-10T{10 + i}:00:00-04:00",
                "end": f"2026-03-10T{10 + i}:30:00-04:00",
            },
            timeout=60,
        )
        for i in range(6)
    ]
    assert all(r.status is Status.COMPLETED for r in await asyncio.gather(*creates))
    await _ok(
        bus,
        "event.create",
        {
            "calendar_id": cal,
            "event_id": "standup",
            "title": "Standup",
            "rrule": "FREQ=DAILY",
            "start": "2026-03-02T09:30:00-05:00",
            "end": "2026-03-02T10:00:00-05:00",
            "exdates": ["2026-03-09T09:30:00-04:00"],
        },
    )
    listed = await _ok(
        bus,
        "event.list",
        {"calendar_id": cal, "start": "2026-03-07T00:00:00Z", "end": "2026-03-11T00:00:00Z"},
    )
    standups = [o["local_start"] for o in listed["occurrences"] if o["event_id"] == "standup"]
    assert standups == [
        "2026-03-07T09:30:00-05:00",
        "2026-03-08T09:30:00-04:00",
        "2026-03-10T09:30:00-04:00",
    ]
    assert len([o for o in listed["occurrences"] if o["title"].startswith("Meeting")]) == 6
    every_day = {d: [["08:00", "12:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    slots = await _ok(
        bus,
        "calendar.free_slots",
        {
            "calendar_ids": [cal],
            "start": "2026-03-07T05:00:00Z",
            "end": "2026-03-09T04:00:00Z",
            "timezone": "America/New_York",
            "working_hours": every_day,
            "duration_minutes": 30,
        },
    )
    assert [(s["start"], s["end"]) for s in slots["slots"]] == [
        ("2026-03-07T13:00:00+00:00", "2026-03-07T14:30:00+00:00"),
        ("2026-03-07T15:00:00+00:00", "2026-03-07T17:00:00+00:00"),
        ("2026-03-08T12:00:00+00:00", "2026-03-08T13:30:00+00:00"),
        ("2026-03-08T14:00:00+00:00", "2026-03-08T16:00:00+00:00"),
    ]
    clash = await _ok(
        bus,
        "calendar.conflicts",
        {
            "calendar_ids": [cal],
            "start": "2026-03-10T11:15:00-04:00",
            "end": "2026-03-10T11:45:00-04:00",
        },
    )
    assert clash["conflict"] and clash["conflicts"][0]["with"]["event_id"] == "e1"
    status, body = http_get(f"{scheduling_worker.url}/ready")
    assert status == 200 and json.loads(body)["checks"]["redis"]["ok"]


async def test_bad_input_fails_with_clear_codes(scheduling_worker, module_bus):
    bus = module_bus
    cases = [
        (
            "event.create",
            {
                "calendar_id": "c",
                "title": "x",
                "start": "2026-01-01T00:00:00Z",
                "end": "2026-01-01T01:00:00Z",
                "colour": "red",
            },
            "INVALID_PAYLOAD",
        ),
        (
            "event.create",
            {
                "calendar_id": "missing-cal",
                "title": "x",
                "start": "2026-01-01T00:00:00Z",
                "end": "2026-01-01T01:00:00Z",
            },
            "CALENDAR_NOT_FOUND",
        ),
        ("calendar.create", {"name": "x", "timezone": "Not/AZone"}, "INVALID_TIMEZONE"),
        (
            "calendar.import_ics",
            {"calendar_id": "missing-cal", "ics": "BEGIN:VCALENDAR"},
            "CALENDAR_NOT_FOUND",
        ),
    ]
    results = await asyncio.gather(*[bus.call("scheduling", c, p, timeout=60) for c, p, _ in cases])
    assert [(r.status, r.error.code) for r in results] == [
        (Status.FAILED, code) for _, _, code in cases
    ]
    ping = await bus.call("scheduling", "system.ping", {}, timeout=60)
    assert ping.status is Status.COMPLETED


async def test_plan_commit_ics_round_trip_habits_and_idempotency(scheduling_worker, module_bus):
    bus = module_bus
    cal, other = f"w-{uuid.uuid4().hex[:6]}", f"x-{uuid.uuid4().hex[:6]}"
    await _ok(bus, "calendar.create", {"calendar_id": cal, "name": "Work", "timezone": "UTC"})
    await _ok(bus, "calendar.create", {"calendar_id": other, "name": "Copy", "timezone": "UTC"})
    await _ok(
        bus,
        "event.create",
        {
            "calendar_id": cal,
            "title": "Busy",
            "start": "2026-03-02T09:00:00Z",
            "end": "2026-03-02T16:00:00Z",
        },
    )
    plan = await _ok(
        bus,
        "schedule.plan",
        {
            "calendar_ids": [cal],
            "start": "2026-03-02T00:00:00Z",
            "end": "2026-03-03T00:00:00Z",
            "tasks": [
                {"task_id": "fits", "title": "Fits", "duration_minutes": 60},
                {"task_id": "too-big", "title": "Too big", "duration_minutes": 120},
            ],
        },
    )
    assert [p["item_id"] for p in plan["placements"]] == ["fits"]
    assert (
        plan["unplaced"][0]["item_id"] == "too-big"
        and "only 0 min of free time" in plan["unplaced"][0]["reason"]
    )
    # The same command id twice creates the events once.
    commit = bus.command(
        "schedule.commit",
        {"plan_id": plan["plan_id"], "calendar_id": cal},
        command_id=f"commit-{uuid.uuid4().hex}",
    )
    first = await bus.call_command("scheduling", commit, timeout=60)
    (await bus.listen("scheduling")).seen.pop(commit.command_id, None)
    second = await bus.call_command("scheduling", commit, timeout=60)
    assert first == second and len(first.result["created"]) == 1
    exported = await _ok(bus, "calendar.export_ics", {"calendar_id": cal})
    assert exported["events"] == 2 and "BEGIN:VCALENDAR" in exported["ics"]
    imported = await _ok(bus, "calendar.import_ics", {"calendar_id": other, "ics": exported["ics"]})
    assert len(imported["imported"]) == 2
    a = await _ok(
        bus,
        "event.list",
        {"calendar_id": cal, "start": "2026-03-01T00:00:00Z", "end": "2026-03-04T00:00:00Z"},
    )
    b = await _ok(
        bus,
        "event.list",
        {"calendar_id": other, "start": "2026-03-01T00:00:00Z", "end": "2026-03-04T00:00:00Z"},
    )
    assert [(o["start"], o["end"], o["title"]) for o in a["occurrences"]] == [
        (o["start"], o["end"], o["title"]) for o in b["occurrences"]
    ]
    # The assistant's SCHEDULE_HABITS command.
    user = f"u-{uuid.uuid4().hex[:6]}"
    await _ok(
        bus,
        "habit.create",
        {
            "user_id": user,
            "habit_id": "stretch",
            "name": "Stretch",
            "duration_minutes": 15,
            "window_start": "07:00",
            "window_end": "08:00",
            "start_date": "2026-03-01",
        },
    )
    out = await _ok(
        bus,
        "habits.schedule",
        {
            "user_id": user,
            "calendar_id": cal,
            "start": "2026-03-02T00:00:00Z",
            "end": "2026-03-04T00:00:00Z",
        },
    )
    assert [p["start"] for p in out["plan"]["placements"]] == [
        "2026-03-02T07:00:00Z",
        "2026-03-03T07:00:00Z",
    ]
    assert len(out["commit"]["created"]) == 2
    done = await _ok(bus, "habit.complete", {"user_id": user, "habit_id": "stretch"})
    assert done["current_streak"] >= 1 and done["done_today"]

"""schedule.plan/commit, habits with streaks, goals, the assistant's habits.schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from agents.scheduling.calendar_handlers import (
    handle_create_calendar,
    handle_create_event,
    handle_list_events,
)
from agents.scheduling.messages import (
    CommitPlan,
    CompleteHabit,
    CreateCalendar,
    CreateEvent,
    CreateGoal,
    CreateHabit,
    ListEvents,
    ListHabits,
    MarkMilestone,
    PlanSchedule,
    ScheduleHabits,
)
from agents.scheduling.planning_handlers import (
    handle_commit,
    handle_complete_habit,
    handle_create_goal,
    handle_create_habit,
    handle_list_habits,
    handle_mark_milestone,
    handle_plan,
    handle_schedule_habits,
)
from enginedge_streams.errors import NotFoundError, ValidationError
from enginedge_streams.testing.compute_pool import InProcessComputePool
from tests.unit.scheduling.conftest import make_ctx

COMPUTE = InProcessComputePool()


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


MONDAY = {"calendar_ids": ["w"], "start": utc(2026, 3, 2), "end": utc(2026, 3, 3)}


async def _plan(repo, clock, ctx=None, **query):
    return await handle_plan(
        PlanSchedule(**query), repo=repo, clock=clock, ctx=ctx or make_ctx(), compute=COMPUTE
    )


async def _setup(repo, clock):
    await handle_create_calendar(
        CreateCalendar(calendar_id="w", name="w", timezone="UTC"),
        repo=repo,
        clock=clock,
        ctx=make_ctx(),
    )
    # Mon 2 March 2026: 9-17 working day with meetings 10-12 and 14-15.
    for s, e in ((10, 12), (14, 15)):
        await handle_create_event(
            CreateEvent(
                calendar_id="w", title="mtg", start=utc(2026, 3, 2, s), end=utc(2026, 3, 2, e)
            ),
            repo=repo,
            clock=clock,
            ctx=make_ctx(),
        )


async def test_plan_priority_deadline_split_and_explain(repo, clock):
    await _setup(repo, clock)
    tasks = [
        {"task_id": "low", "title": "Low", "duration_minutes": 60, "priority": 1},
        {
            "task_id": "urgent",
            "title": "Urgent",
            "duration_minutes": 60,
            "priority": 5,
            "deadline": utc(2026, 3, 2, 12),
        },
        {
            "task_id": "big",
            "title": "Big",
            "duration_minutes": 180,
            "priority": 3,
            "splittable": True,
            "min_chunk_minutes": 45,
        },
        {
            "task_id": "huge",
            "title": "Huge",
            "duration_minutes": 240,
            "priority": 4,
            "deadline": utc(2026, 3, 2, 17),
        },
    ]
    ctx = make_ctx("schedule.plan")
    out = await _plan(
        repo,
        clock,
        **MONDAY,
        timezone="UTC",
        tasks=tasks,
        ctx=ctx,
    )
    by = {}
    for p in out["placements"]:
        by.setdefault(p["item_id"], []).append((p["start"][11:16], p["end"][11:16]))
    assert by["urgent"] == [("09:00", "10:00")]  # highest priority, before its deadline
    # Free after "urgent": 12-14 (120), 15-17 (120). "huge" (240, unsplittable) cannot fit.
    assert "huge" not in by
    (huge,) = [u for u in out["unplaced"] if u["item_id"] == "huge"]
    assert "contiguous block of 240 min" in huge["reason"] and huge["largest_block_minutes"] == 120
    assert by["big"] == [("12:00", "14:00"), ("15:00", "16:00")]  # split into two chunks
    assert by["low"] == [("16:00", "17:00")]
    assert out["plan_id"] == ctx.command_id

    commit = await handle_commit(
        CommitPlan(plan_id=out["plan_id"], calendar_id="w"), repo=repo, clock=clock
    )
    assert len(commit["created"]) == 4
    again = await handle_commit(
        CommitPlan(plan_id=out["plan_id"], calendar_id="w"), repo=repo, clock=clock
    )
    assert again["created"] == [] and len(again["already_present"]) == 4  # idempotent
    listed = await handle_list_events(
        ListEvents(calendar_id="w", start=utc(2026, 3, 2), end=utc(2026, 3, 3)),
        repo=repo,
        compute=COMPUTE,
    )
    titles = [o["title"] for o in listed["occurrences"]]
    assert "Big (1/2)" in titles and "Big (2/2)" in titles and titles.count("mtg") == 2
    with pytest.raises(NotFoundError):
        await handle_commit(CommitPlan(plan_id="nope", calendar_id="w"), repo=repo, clock=clock)


async def test_plan_reports_not_enough_time_before_deadline(repo, clock):
    await _setup(repo, clock)
    out = await _plan(
        repo,
        clock,
        **MONDAY,
        timezone="UTC",
        tasks=[
            {
                "task_id": "t",
                "title": "T",
                "duration_minutes": 120,
                "splittable": True,
                "deadline": utc(2026, 3, 2, 11),
            }
        ],
        ctx=make_ctx(),
    )
    assert out["placements"] == []
    assert out["unplaced"][0]["reason"].startswith(
        "needs 120 min but only 60 min of free time remain"
    )
    with pytest.raises(ValidationError):
        await _plan(
            repo,
            clock,
            **MONDAY,
            tasks=[
                {"task_id": "t", "title": "a", "duration_minutes": 30},
                {"task_id": "t", "title": "b", "duration_minutes": 30},
            ],
            ctx=make_ctx(),
        )


async def test_habit_streaks_current_longest_and_due_today(repo, clock):
    clock.at = utc(2026, 3, 20, 12)  # a Friday
    ctx = make_ctx()
    h = (
        await handle_create_habit(
            CreateHabit(
                user_id="u",
                name="Run",
                days=["mon", "wed", "fri"],
                habit_id="run",
                start_date=date(2026, 3, 2),
            ),
            repo=repo,
            clock=clock,
            ctx=ctx,
        )
    )["habit"]
    assert h["days"] == [1, 3, 5]
    for d in (
        date(2026, 3, 2),
        date(2026, 3, 4),
        date(2026, 3, 6),
        date(2026, 3, 9),  # 4 in a row
        date(2026, 3, 13),
        date(2026, 3, 16),
        date(2026, 3, 18),
    ):  # missed Wed 11
        out = await handle_complete_habit(
            CompleteHabit(user_id="u", habit_id="run", day=d), repo=repo, clock=clock
        )
    assert out["longest_streak"] == 4 and out["current_streak"] == 3
    assert out["due_today"] and not out["done_today"]  # Friday, not done yet: streak still alive
    out = await handle_complete_habit(
        CompleteHabit(user_id="u", habit_id="run"), repo=repo, clock=clock
    )
    again = await handle_complete_habit(
        CompleteHabit(user_id="u", habit_id="run"), repo=repo, clock=clock
    )
    assert out["current_streak"] == 4 and again["completions"] == out["completions"] == 8
    assert not out["due_today"] and out["done_today"]
    clock.at = utc(2026, 3, 25, 12)  # Wed 25: Mon 23 was missed
    listed = (await handle_list_habits(ListHabits(user_id="u"), repo=repo, clock=clock))["habits"]
    assert (
        listed[0]["current_streak"] == 0
        and listed[0]["longest_streak"] == 4
        and listed[0]["due_today"]
    )
    with pytest.raises(ValidationError):
        await handle_complete_habit(
            CompleteHabit(user_id="u", habit_id="run", day=date(2026, 4, 1)), repo=repo, clock=clock
        )


async def test_goals_with_weighted_milestones(repo, clock):
    g = await handle_create_goal(
        CreateGoal(
            user_id="u",
            goal_id="g",
            title="Ship",
            milestones=[
                {"milestone_id": "a", "title": "design", "weight": 1},
                {"milestone_id": "b", "title": "build", "weight": 3},
            ],
        ),
        repo=repo,
        clock=clock,
        ctx=make_ctx(),
    )
    assert g["progress"] == 0.0
    g = await handle_mark_milestone(
        MarkMilestone(user_id="u", goal_id="g", milestone_id="b"), repo=repo, clock=clock
    )
    assert g["progress"] == 0.75 and not g["completed"]
    g = await handle_mark_milestone(
        MarkMilestone(user_id="u", goal_id="g", milestone_id="a"), repo=repo, clock=clock
    )
    assert g["progress"] == 1.0 and g["completed"]
    with pytest.raises(NotFoundError):
        await handle_mark_milestone(
            MarkMilestone(user_id="u", goal_id="g", milestone_id="zz"), repo=repo, clock=clock
        )


async def test_schedule_habits_places_sessions_in_their_windows(repo, clock):
    await _setup(repo, clock)
    await handle_create_habit(
        CreateHabit(
            user_id="u",
            habit_id="read",
            name="Read",
            duration_minutes=30,
            window_start="09:30",
            window_end="12:30",
            days=["mon", "tue"],
            start_date=date(2026, 3, 1),
        ),
        repo=repo,
        clock=clock,
        ctx=make_ctx(),
    )
    out = await handle_schedule_habits(
        ScheduleHabits(user_id="u", calendar_id="w", start=utc(2026, 3, 2), end=utc(2026, 3, 4)),
        repo=repo,
        clock=clock,
        ctx=make_ctx(),
        compute=COMPUTE,
    )
    placements = out["plan"]["placements"]
    # Monday: 9:30-10:00 is free (meeting at 10); Tuesday: 9:30-10:00 as well.
    assert [(p["start"], p["end"]) for p in placements] == [
        ("2026-03-02T09:30:00Z", "2026-03-02T10:00:00Z"),
        ("2026-03-03T09:30:00Z", "2026-03-03T10:00:00Z"),
    ]
    assert len(out["commit"]["created"]) == 2
    assert timedelta(minutes=30) == datetime.fromisoformat(
        placements[0]["end"]
    ) - datetime.fromisoformat(placements[0]["start"])

"""Handlers for planning, habits, goals and reminders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from agents.scheduling import compute as steps
from agents.scheduling.calendar_handlers import derived_id, event_blobs, hours_of
from agents.scheduling.habits import due_days, goal_progress, streaks
from agents.scheduling.messages import (
    CommitPlan,
    CompleteHabit,
    CreateGoal,
    CreateHabit,
    FireReminder,
    ListGoals,
    ListHabits,
    MarkMilestone,
    PlanSchedule,
    ScheduleHabits,
    TaskIn,
    Weekday,
)
from agents.scheduling.model import Event, Goal, Habit, Milestone, Placement, Plan, as_utc, zone
from agents.scheduling.planner import PlanItem
from agents.scheduling.repository import SchedulingRepository
from agents.scheduling.slots import local_instant, parse_hhmm
from enginedge_streams.errors import NotFoundError, PermanentError, ValidationError
from enginedge_streams.handlers import CommandContext
from enginedge_streams.ports.clock import Clock
from enginedge_streams.ports.compute_pool import ComputePool
from enginedge_streams.ports.event_publisher import EventPublisher

ALL_DAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NUMBERS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}


def _habit_items(habits: list[Habit], start: datetime, end: datetime) -> list[PlanItem]:
    items = []
    for h in habits:
        tz = zone(h.timezone)
        for day in due_days(h, start.astimezone(tz).date(), end.astimezone(tz).date()):
            lo = local_instant(day, parse_hhmm(h.window_start or "00:00"), tz)
            hi = local_instant(day, parse_hhmm(h.window_end or "24:00"), tz)
            items.append(
                PlanItem(
                    item_id=f"{h.habit_id}@{day.isoformat()}",
                    kind="habit",
                    title=h.name,
                    duration=timedelta(minutes=h.duration_minutes),
                    priority=h.priority,
                    deadline=min(hi, end),
                    earliest=max(lo, start),
                    splittable=False,
                    min_chunk=timedelta(minutes=h.duration_minutes),
                )
            )
    return items


def _select_habits(repo: SchedulingRepository, user_id: str, ids: list[str] | None) -> list[Habit]:
    habits = repo.habits(user_id)
    if ids is not None:
        known = {h.habit_id for h in habits}
        missing = sorted(set(ids) - known)
        if missing:
            raise NotFoundError(f"unknown habits: {', '.join(missing)}", code="HABIT_NOT_FOUND")
        habits = [h for h in habits if h.habit_id in set(ids)]
    return habits


def _tasks(repo: SchedulingRepository, cmd: PlanSchedule) -> list[TaskIn]:
    """The command's tasks, then the open tasks stored in its calendars (imported VTODOs)."""
    if len({t.task_id for t in cmd.tasks}) != len(cmd.tasks):
        raise ValidationError("task ids must be unique", code="DUPLICATE_TASK_ID")
    out = list(cmd.tasks)
    if cmd.stored_tasks:
        given = {t.task_id for t in cmd.tasks}
        for cid in dict.fromkeys(cmd.calendar_ids):
            for task in repo.tasks(cid):
                if task.task_id not in given:
                    given.add(task.task_id)
                    out.append(TaskIn.model_validate(task.model_dump(include=_TASK_FIELDS)))
    return out


_TASK_FIELDS = {"task_id", "title", "duration_minutes", "priority", "deadline", "earliest_start"}


async def handle_plan(
    cmd: PlanSchedule,
    *,
    repo: SchedulingRepository,
    clock: Clock,
    ctx: CommandContext,
    compute: ComputePool,
) -> dict[str, Any]:
    tz = zone(cmd.timezone)
    start, end = as_utc(cmd.start), as_utc(cmd.end)
    buffer = timedelta(minutes=cmd.buffer_minutes)
    tasks = _tasks(repo, cmd)
    items = [
        PlanItem(
            item_id=t.task_id,
            kind="task",
            title=t.title,
            duration=timedelta(minutes=t.duration_minutes),
            priority=t.priority,
            deadline=as_utc(t.deadline) if t.deadline else None,
            earliest=as_utc(t.earliest_start) if t.earliest_start else None,
            splittable=t.splittable,
            min_chunk=timedelta(minutes=t.min_chunk_minutes),
        )
        for t in tasks
    ]
    if cmd.habit_user_id:
        items += _habit_items(_select_habits(repo, cmd.habit_user_id, cmd.habit_ids), start, end)
    placed, unplaced = await compute.run(
        steps.plan_step,
        event_blobs(repo, cmd.calendar_ids),
        items,
        steps.FreeTimeQuery(
            start=start,
            end=end,
            tz_name=cmd.timezone,
            hours=hours_of(cmd),
            buffer=buffer,
            min_length=timedelta(minutes=5),
        ),
    )
    result = Plan(
        plan_id=ctx.command_id,
        calendar_ids=cmd.calendar_ids,
        timezone=cmd.timezone,
        placements=[
            Placement(
                item_id=p.item.item_id,
                kind=p.item.kind,
                title=p.item.title,
                start=p.start,
                end=p.end,
                chunk=p.chunk,
                chunks=p.chunks,
            )
            for p in placed
        ],
        unplaced=[
            {
                "item_id": u.item.item_id,
                "kind": u.item.kind,
                "title": u.item.title,
                "reason": u.reason,
                "free_minutes_before_deadline": u.free_minutes_before_deadline,
                "largest_block_minutes": u.largest_block_minutes,
            }
            for u in unplaced
        ],
        created_at=clock.now(),
    )
    repo.save_plan(result)
    out = result.model_dump(mode="json")
    for p in out["placements"]:
        p["local_start"] = datetime.fromisoformat(p["start"]).astimezone(tz).isoformat()
        p["local_end"] = datetime.fromisoformat(p["end"]).astimezone(tz).isoformat()
    return out


async def handle_commit(
    cmd: CommitPlan, *, repo: SchedulingRepository, clock: Clock
) -> dict[str, Any]:
    p = repo.plan(cmd.plan_id)
    if p is None:
        raise NotFoundError(f"no plan {cmd.plan_id!r}", code="PLAN_NOT_FOUND")
    cal = repo.require_calendar(cmd.calendar_id)
    if p.committed_to is not None and p.committed_to != cal.calendar_id:
        raise PermanentError(f"plan already committed to {p.committed_to!r}", code="PLAN_COMMITTED")
    created, existing = [], []
    for i, pl in enumerate(p.placements):
        event_id = f"{derived_id('plan', p.plan_id)}-{i}"
        if repo.event(cal.calendar_id, event_id) is not None:
            existing.append(event_id)
            continue
        repo.save_event(
            Event(
                event_id=event_id,
                calendar_id=cal.calendar_id,
                uid=f"{event_id}@enginedge",
                title=pl.title if pl.chunks == 1 else f"{pl.title} ({pl.chunk}/{pl.chunks})",
                description=f"{pl.kind} {pl.item_id} (plan {p.plan_id})",
                start=pl.start,
                end=pl.end,
                timezone=p.timezone,
                reminders=list(cmd.reminders),
                updated_at=clock.now(),
            )
        )
        created.append(event_id)
    p.committed_to = cal.calendar_id
    repo.save_plan(p)
    return {
        "plan_id": p.plan_id,
        "calendar_id": cal.calendar_id,
        "created": created,
        "already_present": existing,
    }


async def handle_create_habit(
    cmd: CreateHabit, *, repo: SchedulingRepository, clock: Clock, ctx: CommandContext
) -> dict[str, Any]:
    tz = zone(cmd.timezone)
    if (cmd.window_start is None) != (cmd.window_end is None) or (
        cmd.window_start and cmd.window_end and cmd.window_start >= cmd.window_end
    ):
        raise ValidationError(
            "give both window_start < window_end, or neither", code="INVALID_WINDOW"
        )
    habit_id = cmd.habit_id or derived_id("habit", ctx.command_id)
    existing = repo.habit(cmd.user_id, habit_id)
    if existing is not None:
        if cmd.habit_id is None:
            return {"habit": existing.model_dump(mode="json"), "created": False}
        raise PermanentError(f"habit {habit_id!r} already exists", code="HABIT_EXISTS")
    habit = Habit(
        habit_id=habit_id,
        user_id=cmd.user_id,
        name=cmd.name,
        days=sorted(DAY_NUMBERS[d] for d in set(cmd.days)),
        duration_minutes=cmd.duration_minutes,
        window_start=cmd.window_start,
        window_end=cmd.window_end,
        priority=cmd.priority,
        timezone=cmd.timezone,
        created_on=cmd.start_date or clock.now().astimezone(tz).date(),
    )
    repo.save_habit(habit)
    return {"habit": habit.model_dump(mode="json"), "created": True}


def _habit_view(h: Habit, clock: Clock) -> dict[str, Any]:
    today = clock.now().astimezone(zone(h.timezone)).date()
    return {**h.model_dump(mode="json", exclude={"completions"}), **streaks(h, today)}


async def handle_complete_habit(
    cmd: CompleteHabit, *, repo: SchedulingRepository, clock: Clock
) -> dict[str, Any]:
    h = repo.habit(cmd.user_id, cmd.habit_id)
    if h is None:
        raise NotFoundError(f"no habit {cmd.habit_id!r}", code="HABIT_NOT_FOUND")
    today = clock.now().astimezone(zone(h.timezone)).date()
    day = cmd.day or today
    if day > today:
        raise ValidationError("cannot complete a habit in the future", code="FUTURE_DATE")
    if day not in h.completions:
        h.completions = sorted({*h.completions, day})
        repo.save_habit(h)
    return _habit_view(h, clock)


async def handle_list_habits(
    cmd: ListHabits, *, repo: SchedulingRepository, clock: Clock
) -> dict[str, Any]:
    return {"habits": [_habit_view(h, clock) for h in repo.habits(cmd.user_id)]}


async def handle_create_goal(
    cmd: CreateGoal, *, repo: SchedulingRepository, clock: Clock, ctx: CommandContext
) -> dict[str, Any]:
    goal_id = cmd.goal_id or derived_id("goal", ctx.command_id)
    if len({m.milestone_id for m in cmd.milestones}) != len(cmd.milestones):
        raise ValidationError("milestone ids must be unique", code="DUPLICATE_MILESTONE")
    existing = repo.goal(cmd.user_id, goal_id)
    if existing is not None:
        if cmd.goal_id is None:
            return goal_progress(existing)
        raise PermanentError(f"goal {goal_id!r} already exists", code="GOAL_EXISTS")
    goal = Goal(
        goal_id=goal_id,
        user_id=cmd.user_id,
        title=cmd.title,
        target_date=cmd.target_date,
        milestones=[Milestone(**m.model_dump()) for m in cmd.milestones],
        created_at=clock.now(),
    )
    repo.save_goal(goal)
    return goal_progress(goal)


async def handle_mark_milestone(
    cmd: MarkMilestone, *, repo: SchedulingRepository, clock: Clock
) -> dict[str, Any]:
    goal = repo.goal(cmd.user_id, cmd.goal_id)
    if goal is None:
        raise NotFoundError(f"no goal {cmd.goal_id!r}", code="GOAL_NOT_FOUND")
    for m in goal.milestones:
        if m.milestone_id == cmd.milestone_id:
            if m.done != cmd.done:
                m.done, m.done_at = cmd.done, clock.now() if cmd.done else None
                repo.save_goal(goal)
            return goal_progress(goal)
    raise NotFoundError(f"no milestone {cmd.milestone_id!r}", code="MILESTONE_NOT_FOUND")


async def handle_list_goals(cmd: ListGoals, *, repo: SchedulingRepository) -> dict[str, Any]:
    return {"goals": [goal_progress(g) for g in repo.goals(cmd.user_id)]}


async def handle_schedule_habits(
    cmd: ScheduleHabits,
    *,
    repo: SchedulingRepository,
    clock: Clock,
    ctx: CommandContext,
    compute: ComputePool,
) -> dict[str, Any]:
    """The assistant's SCHEDULE_HABITS: plan the user's habits into a calendar, then commit."""
    cal = repo.require_calendar(cmd.calendar_id)
    query = PlanSchedule(
        calendar_ids=[cal.calendar_id],
        start=cmd.start,
        end=cmd.end,
        timezone=cmd.timezone or cal.timezone,
        working_hours=cmd.working_hours or {d: [("00:00", "24:00")] for d in ALL_DAYS},
        buffer_minutes=cmd.buffer_minutes,
        habit_user_id=cmd.user_id,
        habit_ids=cmd.habit_ids,
    )
    planned = await handle_plan(query, repo=repo, clock=clock, ctx=ctx, compute=compute)
    out: dict[str, Any] = {"plan": planned}
    if cmd.commit:
        out["commit"] = await handle_commit(
            CommitPlan(plan_id=planned["plan_id"], calendar_id=cal.calendar_id),
            repo=repo,
            clock=clock,
        )
    return out


async def handle_fire_reminder(
    cmd: FireReminder,
    *,
    repo: SchedulingRepository,
    events_out: EventPublisher,
    clock: Clock,
    compute: ComputePool,
) -> dict[str, Any]:
    fired = repo.reminder_fired(cmd.key)
    if fired is not None:
        return {"key": cmd.key, "emitted": False, "fired_at": fired.isoformat()}
    ev = repo.event(cmd.calendar_id, cmd.event_id)
    due = as_utc(cmd.due_at)
    occurrence = None
    if ev is not None and cmd.minutes_before in ev.reminders:
        start = due + timedelta(minutes=cmd.minutes_before)
        occurrence = await compute.run(
            steps.occurrence_at, ev.model_dump_json().encode(), start, cmd.recurrence_id
        )
    now = clock.now()
    if occurrence is None:  # deleted or moved since the timer saw it: record, emit nothing
        repo.mark_fired(cmd.key, now)
        return {"key": cmd.key, "emitted": False, "reason": "the occurrence no longer exists"}
    record = {
        "type": "reminder.due",
        "reminder_id": cmd.key,
        "calendar_id": cmd.calendar_id,
        "event_id": cmd.event_id,
        "recurrence_id": cmd.recurrence_id,
        "title": occurrence["title"],
        "start": start.isoformat(),
        "due_at": due.isoformat(),
        "minutes_before": cmd.minutes_before,
        "emitted_at": now.astimezone(UTC).isoformat(),
        "late": (now - due) > timedelta(seconds=60),
    }
    await events_out.publish(cmd.key, record)
    repo.mark_fired(cmd.key, now)
    return {"key": cmd.key, "emitted": True, "record": record}

"""Habit streaks and goal progress (pure functions over stored records)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from agents.scheduling.model import Goal, Habit


def is_due(habit: Habit, day: date) -> bool:
    return day >= habit.created_on and day.isoweekday() in habit.days


def streaks(habit: Habit, today: date) -> dict[str, Any]:
    """Current and longest streak, counted in *due* days (non-due days neither break nor add).

    The current streak still counts when today is due but not done yet: it only
    breaks once a due day has passed without a completion.
    """
    done = set(habit.completions)
    longest = run = 0
    current = 0
    day = habit.created_on
    while day <= today:
        if is_due(habit, day):
            if day in done:
                run += 1
            elif day < today:
                run = 0
            longest = max(longest, run)
        day += timedelta(days=1)
    current = run
    due_today = is_due(habit, today)
    return {
        "current_streak": current,
        "longest_streak": longest,
        "due_today": due_today and today not in done,
        "done_today": today in done,
        "completions": len(done),
    }


def goal_progress(goal: Goal) -> dict[str, Any]:
    total = sum(m.weight for m in goal.milestones)
    done = sum(m.weight for m in goal.milestones if m.done)
    return {
        "goal_id": goal.goal_id,
        "title": goal.title,
        "target_date": goal.target_date.isoformat() if goal.target_date else None,
        "progress": round(done / total, 4) if total else 0.0,
        "milestones": [m.model_dump(mode="json") for m in goal.milestones],
        "completed": bool(goal.milestones) and all(m.done for m in goal.milestones),
    }


def due_days(habit: Habit, start: date, end: date) -> list[date]:
    out = []
    day = start
    while day <= end:
        if is_due(habit, day):
            out.append(day)
        day += timedelta(days=1)
    return out

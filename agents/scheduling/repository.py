"""Typed access to the scheduling state over the ``KeyValueStore`` port.

Key layout (one table): ``cal:<calendar>``, ``ev:<calendar>:<event>``,
``habit:<user>:<habit>``, ``goal:<user>:<goal>``, ``plan:<plan>``,
``fired:<reminder key>``, ``remidx:<calendar>:<event>`` (events with reminders),
``sync:<calendar>:<provider>``, ``ext:<calendar>:<provider>:<remote id>`` -> event id,
``pushed:<calendar>:<provider>:<event>``, ``tomb:<calendar>:<event>`` (deleted, to sync),
``task:<calendar>:<task>`` (open to-dos for the planner).
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel

from agents.scheduling.model import Calendar, Event, Goal, Habit, Plan, Task
from agents.scheduling.validation import validate_event
from enginedge_streams.errors import NotFoundError
from enginedge_streams.ports.key_value_store import KeyValueStore

M = TypeVar("M", bound=BaseModel)


class SchedulingRepository:
    def __init__(self, store: KeyValueStore) -> None:
        self.store = store
        self._changes = 0

    @property
    def version(self) -> tuple[int, int]:
        """Changes with every event write and every rebuild of the store (reminders watch it)."""
        return int(getattr(self.store, "generation", 0)), self._changes

    def _get(self, key: str, model: type[M]) -> M | None:
        raw = self.store.get(key)
        return None if raw is None else model.model_validate_json(raw)

    def _put(self, key: str, value: BaseModel) -> None:
        self.store.put(key, value.model_dump_json().encode())

    # calendars
    def calendar(self, calendar_id: str) -> Calendar | None:
        return self._get(f"cal:{calendar_id}", Calendar)

    def require_calendar(self, calendar_id: str) -> Calendar:
        cal = self.calendar(calendar_id)
        if cal is None:
            raise NotFoundError(f"no calendar {calendar_id!r}", code="CALENDAR_NOT_FOUND")
        return cal

    def save_calendar(self, cal: Calendar) -> None:
        self._put(f"cal:{cal.calendar_id}", cal)

    def calendars(self) -> list[Calendar]:
        return [Calendar.model_validate_json(v) for _, v in self.store.scan("cal:")]

    # events
    def event(self, calendar_id: str, event_id: str) -> Event | None:
        return self._get(f"ev:{calendar_id}:{event_id}", Event)

    def require_event(self, calendar_id: str, event_id: str) -> Event:
        ev = self.event(calendar_id, event_id)
        if ev is None:
            raise NotFoundError(
                f"no event {event_id!r} in calendar {calendar_id!r}", code="EVENT_NOT_FOUND"
            )
        return ev

    def save_event(self, ev: Event) -> None:
        """Store ``ev`` after ``validate_event``: no write path stores an invalid event."""
        validate_event(ev)
        self._put(f"ev:{ev.calendar_id}:{ev.event_id}", ev)
        marker = f"remidx:{ev.calendar_id}:{ev.event_id}"
        if ev.reminders:
            self.store.put(marker, b"1")
        elif self.store.get(marker) is not None:
            self.store.delete(marker)
        for provider, remote in ev.external_ids.items():
            self.store.put(f"ext:{ev.calendar_id}:{provider}:{remote}", ev.event_id.encode())
        self._changes += 1

    def delete_event(self, ev: Event) -> None:
        self.store.delete(f"ev:{ev.calendar_id}:{ev.event_id}")
        self.store.delete(f"remidx:{ev.calendar_id}:{ev.event_id}")
        for provider, remote in ev.external_ids.items():
            self.store.delete(f"ext:{ev.calendar_id}:{provider}:{remote}")
        self._changes += 1

    def events(self, calendar_id: str) -> list[Event]:
        return [Event.model_validate_json(v) for _, v in self.store.scan(f"ev:{calendar_id}:")]

    def event_blobs(self, calendar_id: str, *, ignore: str | None = None) -> list[bytes]:
        """The stored JSON of a calendar's events (decoded by compute steps, off the loop)."""
        prefix = f"ev:{calendar_id}:"
        return [v for k, v in self.store.scan(prefix) if ignore is None or k != prefix + ignore]

    def reminder_event_blobs(self) -> list[bytes]:
        """The stored JSON of every event that carries reminders."""
        out = []
        for key in self.store.keys("remidx:"):
            _, calendar_id, event_id = key.split(":", 2)
            raw = self.store.get(f"ev:{calendar_id}:{event_id}")
            if raw is not None:
                out.append(raw)
        return out

    def events_with_reminders(self) -> list[Event]:
        """Only events that carry reminders (an index, so the reminder timer stays cheap)."""
        out = []
        for key in self.store.keys("remidx:"):
            _, calendar_id, event_id = key.split(":", 2)
            ev = self.event(calendar_id, event_id)
            if ev is not None:
                out.append(ev)
        return out

    def event_by_uid(self, calendar_id: str, uid: str, event_id: str) -> Event | None:
        """The event with this iCalendar UID (``event_id``: where an import would store it)."""
        found = self.event(calendar_id, event_id)
        if found is not None and found.uid == uid:
            return found
        return next((e for e in self.events(calendar_id) if e.uid == uid), None)

    def all_events(self) -> list[Event]:
        return [Event.model_validate_json(v) for _, v in self.store.scan("ev:")]

    def event_by_external(self, calendar_id: str, provider: str, remote: str) -> Event | None:
        raw = self.store.get(f"ext:{calendar_id}:{provider}:{remote}")
        return None if raw is None else self.event(calendar_id, raw.decode())

    # tasks
    def save_task(self, task: Task) -> None:
        self._put(f"task:{task.calendar_id}:{task.task_id}", task)

    def delete_task(self, calendar_id: str, task_id: str) -> bool:
        key = f"task:{calendar_id}:{task_id}"
        if self.store.get(key) is None:
            return False
        self.store.delete(key)
        return True

    def tasks(self, calendar_id: str) -> list[Task]:
        return [Task.model_validate_json(v) for _, v in self.store.scan(f"task:{calendar_id}:")]

    # habits and goals
    def habit(self, user_id: str, habit_id: str) -> Habit | None:
        return self._get(f"habit:{user_id}:{habit_id}", Habit)

    def save_habit(self, habit: Habit) -> None:
        self._put(f"habit:{habit.user_id}:{habit.habit_id}", habit)

    def habits(self, user_id: str) -> list[Habit]:
        return [Habit.model_validate_json(v) for _, v in self.store.scan(f"habit:{user_id}:")]

    def goal(self, user_id: str, goal_id: str) -> Goal | None:
        return self._get(f"goal:{user_id}:{goal_id}", Goal)

    def save_goal(self, goal: Goal) -> None:
        self._put(f"goal:{goal.user_id}:{goal.goal_id}", goal)

    def goals(self, user_id: str) -> list[Goal]:
        return [Goal.model_validate_json(v) for _, v in self.store.scan(f"goal:{user_id}:")]

    # plans
    def plan(self, plan_id: str) -> Plan | None:
        return self._get(f"plan:{plan_id}", Plan)

    def save_plan(self, plan: Plan) -> None:
        self._put(f"plan:{plan.plan_id}", plan)

    # reminders
    def reminder_fired(self, key: str) -> datetime | None:
        raw = self.store.get(f"fired:{key}")
        return None if raw is None else datetime.fromisoformat(raw.decode())

    def mark_fired(self, key: str, at: datetime) -> None:
        self.store.put(f"fired:{key}", at.isoformat().encode())

    # sync cursors
    def sync_cursor(self, calendar_id: str, provider: str) -> str | None:
        raw = self.store.get(f"sync:{calendar_id}:{provider}")
        return None if raw is None else raw.decode()

    def save_sync_cursor(self, calendar_id: str, provider: str, cursor: str | None) -> None:
        if cursor is None:
            self.store.delete(f"sync:{calendar_id}:{provider}")
        else:
            self.store.put(f"sync:{calendar_id}:{provider}", cursor.encode())

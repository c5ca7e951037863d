"""Payloads of the scheduling worker's commands (extra fields forbidden, sizes bounded)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

IdStr = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._@-]+$")
]
HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MAX_ICS = 2_000_000
ALL_WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateCalendar(_Payload):
    """`calendar.create`."""

    calendar_id: str | None = Field(
        None, min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._@-]+$"
    )
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field("UTC", min_length=1, max_length=64)
    owner_id: str | None = Field(None, max_length=200)


class OverrideIn(_Payload):
    recurrence_id: datetime | date = Field(description="The original start of the occurrence.")
    start: datetime | None = None
    end: datetime | None = None
    title: str | None = Field(None, max_length=500)
    cancelled: bool = False


class EventFields(_Payload):
    title: str = Field(min_length=1, max_length=500)
    description: str = Field("", max_length=20_000)
    location: str = Field("", max_length=500)
    start: datetime | None = Field(None, description="Timed event start (with UTC offset).")
    end: datetime | None = None
    start_date: date | None = Field(None, description="All-day event first day.")
    end_date: date | None = Field(None, description="All-day event end (exclusive).")
    timezone: str | None = Field(
        None, max_length=64, description="IANA zone the event recurs in (default: calendar's)."
    )
    rrule: str | None = Field(None, max_length=1000, description="RFC 5545 RRULE.")
    exdates: list[datetime | date] = Field(default_factory=list, max_length=1000)
    overrides: list[OverrideIn] = Field(default_factory=list, max_length=1000)
    reminders: list[int] = Field(default_factory=list, max_length=10)
    busy: bool = True

    @field_validator("reminders")
    @classmethod
    def _reminders(cls, v: list[int]) -> list[int]:
        if any(m < 0 or m > 40_320 for m in v):
            raise ValueError("reminder minutes must be within 0..40320 (4 weeks)")
        return sorted(set(v))

    @model_validator(mode="after")
    def _times(self) -> EventFields:
        timed = self.start is not None or self.end is not None
        all_day = self.start_date is not None or self.end_date is not None
        if timed == all_day:
            raise ValueError("give either start+end (timed) or start_date(+end_date) (all-day)")
        if timed:
            if self.start is None or self.end is None:
                raise ValueError("a timed event needs start and end")
            if self.start.tzinfo is None or self.end.tzinfo is None:
                raise ValueError("start and end need a UTC offset")
            if self.end <= self.start:
                raise ValueError("end must be after start")
        elif (
            self.start_date is not None
            and self.end_date is not None
            and self.end_date <= self.start_date
        ):
            raise ValueError("end_date (exclusive) must be after start_date")
        return self


class CreateEvent(EventFields):
    """`event.create`."""

    calendar_id: IdStr
    event_id: str | None = Field(None, min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._@-]+$")


class EventPatch(_Payload):
    title: str | None = Field(None, min_length=1, max_length=500)
    description: str | None = Field(None, max_length=20_000)
    location: str | None = Field(None, max_length=500)
    start: datetime | None = None
    end: datetime | None = None
    start_date: date | None = None
    end_date: date | None = None
    timezone: str | None = Field(None, max_length=64)
    rrule: str | None = Field(None, max_length=1000)
    exdates: list[datetime | date] | None = Field(None, max_length=1000)
    overrides: list[OverrideIn] | None = Field(None, max_length=1000)
    reminders: list[int] | None = Field(None, max_length=10)
    busy: bool | None = None


class UpdateEvent(_Payload):
    """`event.update`: change fields; `rrule: ""` removes the recurrence."""

    calendar_id: IdStr
    event_id: IdStr
    changes: EventPatch
    add_exdates: list[datetime | date] = Field(default_factory=list, max_length=1000)
    add_overrides: list[OverrideIn] = Field(default_factory=list, max_length=1000)


class EventRef(_Payload):
    """`event.get` / `event.delete`."""

    calendar_id: IdStr
    event_id: IdStr


class ListEvents(_Payload):
    """`event.list`: occurrences overlapping [start, end), recurrences expanded."""

    calendar_id: IdStr
    start: datetime
    end: datetime
    timezone: str | None = Field(None, max_length=64)
    limit: int = Field(1000, ge=1, le=10_000)


class Range(_Payload):
    start: datetime
    end: datetime


WorkingHours = dict[Weekday, list[tuple[str, str]]]


class SlotQuery(_Payload):
    calendar_ids: list[str] = Field(min_length=1, max_length=50)
    start: datetime
    end: datetime
    timezone: str = Field("UTC", max_length=64)
    working_hours: WorkingHours | None = Field(
        None, description='Per weekday, e.g. {"mon": [["09:00","17:00"]]}; default Mon-Fri 9-17.'
    )
    buffer_minutes: int = Field(0, ge=0, le=240)

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, v: WorkingHours | None) -> WorkingHours | None:
        import re

        for ranges in (v or {}).values():
            if len(ranges) > 12:
                raise ValueError("at most 12 ranges per day")
            for lo, hi in ranges:
                if not re.match(HHMM, lo) or not re.match(HHMM, hi) or lo >= hi:
                    raise ValueError(f"bad working-hours range {lo}-{hi} (HH:MM, start < end)")
        return v

    @model_validator(mode="after")
    def _range(self) -> SlotQuery:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("start and end need a UTC offset")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if (self.end - self.start).days > 400:
            raise ValueError("the range may span at most 400 days")
        return self


class FreeSlots(SlotQuery):
    """`calendar.free_slots`."""

    duration_minutes: int = Field(ge=1, le=24 * 60)
    min_slot_minutes: int | None = Field(None, ge=1, le=24 * 60)
    max_slots: int = Field(500, ge=1, le=10_000)


class Conflicts(_Payload):
    """`calendar.conflicts`: does a proposed (possibly recurring) event clash?"""

    calendar_ids: list[str] = Field(min_length=1, max_length=50)
    start: datetime
    end: datetime
    timezone: str = Field("UTC", max_length=64)
    rrule: str | None = Field(None, max_length=1000)
    horizon_days: int = Field(90, ge=1, le=400)
    buffer_minutes: int = Field(0, ge=0, le=240)
    ignore_event_id: str | None = Field(None, max_length=200)


class TaskIn(_Payload):
    task_id: IdStr
    title: str = Field(min_length=1, max_length=500)
    duration_minutes: int = Field(ge=5, le=7 * 24 * 60)
    priority: int = Field(3, ge=1, le=5, description="5 = most important.")
    deadline: datetime | None = None
    earliest_start: datetime | None = None
    splittable: bool = False
    min_chunk_minutes: int = Field(30, ge=5, le=24 * 60)


class PlanSchedule(SlotQuery):
    """`schedule.plan`: place tasks and habit sessions into free time."""

    tasks: list[TaskIn] = Field(default_factory=list, max_length=500)
    stored_tasks: bool = Field(
        True,
        description="Also place the open tasks stored in these calendars (imported VTODOs);"
        " a task in `tasks` with the same id replaces the stored one.",
    )
    habit_user_id: str | None = Field(
        None, max_length=200, description="Include this user's habits."
    )
    habit_ids: list[str] | None = Field(None, max_length=200)


class CommitPlan(_Payload):
    """`schedule.commit`: write a plan's placements as events."""

    plan_id: str = Field(min_length=1, max_length=200)
    calendar_id: IdStr
    reminders: list[int] = Field(default_factory=list, max_length=10)


class CreateHabit(_Payload):
    """`habit.create`."""

    user_id: IdStr
    habit_id: str | None = Field(None, min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._@-]+$")
    name: str = Field(min_length=1, max_length=200)
    days: list[Weekday] = Field(
        default_factory=lambda: list(ALL_WEEKDAYS),
        min_length=1,
        max_length=7,
    )
    duration_minutes: int = Field(30, ge=1, le=24 * 60)
    window_start: str | None = Field(None, pattern=HHMM)
    window_end: str | None = Field(None, pattern=HHMM)
    priority: int = Field(3, ge=1, le=5)
    timezone: str = Field("UTC", max_length=64)
    start_date: date | None = None


class CompleteHabit(_Payload):
    """`habit.complete`: idempotent per day."""

    user_id: IdStr
    habit_id: IdStr
    day: date | None = Field(None, description="Local date (default: today in the habit's zone).")


class ListHabits(_Payload):
    """`habit.list`."""

    user_id: IdStr


class MilestoneIn(_Payload):
    milestone_id: IdStr
    title: str = Field(min_length=1, max_length=500)
    weight: float = Field(1.0, gt=0, le=1000)


class CreateGoal(_Payload):
    """`goal.create`."""

    user_id: IdStr
    goal_id: str | None = Field(None, min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._@-]+$")
    title: str = Field(min_length=1, max_length=500)
    target_date: date | None = None
    milestones: list[MilestoneIn] = Field(min_length=1, max_length=200)


class MarkMilestone(_Payload):
    """`goal.milestone`: mark a milestone done or not done."""

    user_id: IdStr
    goal_id: IdStr
    milestone_id: IdStr
    done: bool = True


class ListGoals(_Payload):
    """`goal.list`."""

    user_id: IdStr


class FireReminder(_Payload):
    """`reminder.fire` (sent by the worker's own timer): emit one `reminder.due` record."""

    key: str = Field(min_length=1, max_length=600)
    calendar_id: IdStr
    event_id: IdStr
    recurrence_id: str = Field(min_length=1, max_length=40)
    minutes_before: int = Field(ge=0, le=40_320)
    due_at: datetime


class ImportIcs(_Payload):
    """`calendar.import_ics`: RFC 5545 text into a calendar (idempotent per UID)."""

    calendar_id: IdStr
    ics: str = Field(min_length=1, max_length=MAX_ICS)


class ExportIcs(_Payload):
    """`calendar.export_ics`."""

    calendar_id: IdStr


class SyncCalendar(_Payload):
    """`calendar.sync`: pull remote changes (incremental), then push local ones."""

    calendar_id: IdStr
    provider: Literal["google", "microsoft", "caldav"]
    remote_calendar: str = Field(min_length=1, max_length=1000)
    direction: Literal["pull", "push", "both"] = "both"
    conflict_policy: Literal["last_write_wins", "remote_wins", "local_wins"] = Field(
        "last_write_wins",
        description="When both sides changed an event since the last sync: the newer "
        "change wins (default), or always the remote / the local copy.",
    )


class ScheduleHabits(_Payload):
    """`habits.schedule`: the assistant's SCHEDULE_HABITS request (plan + commit habits)."""

    user_id: IdStr
    calendar_id: IdStr
    start: datetime
    end: datetime
    habit_ids: list[str] | None = Field(None, max_length=200)
    timezone: str | None = Field(None, max_length=64)
    working_hours: WorkingHours | None = None
    buffer_minutes: int = Field(0, ge=0, le=240)
    commit: bool = True

"""Stored scheduling records (JSON in the worker's table) and plain value types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field

from enginedge_streams.errors import ValidationError


def zone(name: str) -> ZoneInfo:
    """An IANA zone, or a clear INVALID_TIMEZONE error."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"unknown time zone {name!r}", code="INVALID_TIMEZONE") from None


def as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValidationError(f"{value.isoformat()} has no UTC offset", code="NAIVE_DATETIME")
    return value.astimezone(UTC)


class _Stored(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Calendar(_Stored):
    calendar_id: str
    name: str
    timezone: str
    owner_id: str | None = None
    created_at: datetime
    external: dict[str, str] = Field(default_factory=dict)  # provider -> remote calendar id


class Override(_Stored):
    """One changed or cancelled occurrence of a recurring event (RECURRENCE-ID)."""

    start: datetime | None = None
    end: datetime | None = None
    title: str | None = None
    cancelled: bool = False


class Attendee(_Stored):
    """An ATTENDEE of an event; ``partstat`` is updated by iTIP REPLYs."""

    email: str  # lower-case, without "mailto:"
    name: str = ""
    partstat: str = "NEEDS-ACTION"
    role: str = ""


class Event(_Stored):
    event_id: str
    calendar_id: str
    uid: str
    title: str
    description: str = ""
    location: str = ""
    all_day: bool = False
    start: datetime | None = None  # timed: aware, stored in UTC
    end: datetime | None = None
    start_date: date | None = None  # all-day: local dates, end exclusive
    end_date: date | None = None
    timezone: str = "UTC"
    rrule: str | None = None
    exdates: list[datetime] = Field(default_factory=list)  # original starts (UTC)
    rdates: list[datetime] = Field(default_factory=list)  # extra starts (UTC; all-day: 00:00Z)
    exrule: str | None = None  # RFC 2445 EXRULE, expanded like the RRULE and taken away
    overrides: dict[str, Override] = Field(default_factory=dict)  # recurrence id -> change
    reminders: list[int] = Field(default_factory=list)  # minutes before start
    busy: bool = True
    organizer: str = ""
    attendees: list[Attendee] = Field(default_factory=list)
    sequence: int = 0
    updated_at: datetime
    external_ids: dict[str, str] = Field(default_factory=dict)  # provider -> remote id


@dataclass(frozen=True)
class Occurrence:
    event_id: str
    calendar_id: str
    recurrence_id: str  # the original start, UTC ISO (or the date for all-day events)
    start: datetime
    end: datetime
    title: str
    all_day: bool
    busy: bool
    reminders: tuple[int, ...] = ()

    def as_dict(self, tz: ZoneInfo | None = None) -> dict[str, object]:
        out: dict[str, object] = {
            "event_id": self.event_id,
            "calendar_id": self.calendar_id,
            "recurrence_id": self.recurrence_id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "title": self.title,
            "all_day": self.all_day,
            "busy": self.busy,
        }
        if tz is not None:
            out["local_start"] = self.start.astimezone(tz).isoformat()
            out["local_end"] = self.end.astimezone(tz).isoformat()
        return out


class Task(_Stored):
    """A to-do (an imported VTODO) that ``schedule.plan`` places with the calendar's events."""

    task_id: str
    calendar_id: str
    uid: str
    title: str
    duration_minutes: int
    priority: int = 3  # 5 = most important (the planner's scale)
    deadline: datetime | None = None
    earliest_start: datetime | None = None
    updated_at: datetime


class Habit(_Stored):
    habit_id: str
    user_id: str
    name: str
    days: list[int]  # ISO weekdays 1..7 the habit is due
    duration_minutes: int
    window_start: str | None = None  # preferred local time "HH:MM"
    window_end: str | None = None
    priority: int = 3
    timezone: str
    created_on: date
    completions: list[date] = Field(default_factory=list)


class Milestone(_Stored):
    milestone_id: str
    title: str
    weight: float = 1.0
    done: bool = False
    done_at: datetime | None = None


class Goal(_Stored):
    goal_id: str
    user_id: str
    title: str
    target_date: date | None = None
    milestones: list[Milestone]
    created_at: datetime


class Placement(_Stored):
    item_id: str
    kind: str  # task | habit
    title: str
    start: datetime
    end: datetime
    chunk: int = 1
    chunks: int = 1


class Plan(_Stored):
    plan_id: str
    calendar_ids: list[str]
    timezone: str
    placements: list[Placement]
    unplaced: list[dict[str, object]]
    created_at: datetime
    committed_to: str | None = None


def utc_iso(value: datetime) -> str:
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")

"""Ports of the scheduling worker: calendar sync.

Its state, clock, events and timer commands are the platform's ``KeyValueStore``,
``Clock``, ``EventPublisher`` and ``CommandSender`` (``enginedge_streams.ports``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from agents.scheduling.model import Event


@dataclass
class RemoteEvent:
    """A calendar event as a sync provider sees it."""

    external_id: str  # "" when the event does not exist remotely yet
    uid: str = ""  # iCalendar UID: lets a re-sent create be recognised (idempotent push)
    title: str = ""
    start: datetime | None = None
    end: datetime | None = None
    start_date: date | None = None
    end_date: date | None = None
    all_day: bool = False
    timezone: str = "UTC"
    rrule: str | None = None
    rrule_known: bool = True  # False: the provider does not carry recurrences (keep ours)
    exdates: list[datetime] = field(default_factory=list)  # original starts (UTC) left out
    exdates_known: bool = False  # the provider carries EXDATEs (else ours are kept)
    overrides: dict[str, Any] = field(default_factory=dict)  # recurrence id -> Override
    overrides_known: bool = False  # the provider carries per-occurrence overrides
    # RDATE, EXRULE and attendees: only providers that carry whole iCalendar objects (CalDAV)
    rdates: list[datetime] = field(default_factory=list)
    exrule: str | None = None
    organizer: str = ""
    attendees: list[Any] = field(default_factory=list)  # model.Attendee
    extras_known: bool = False
    description: str = ""
    location: str = ""
    updated_at: datetime | None = None
    deleted: bool = False

    @classmethod
    def of(cls, ev: Event, external_id: str, *, complete: bool = False) -> RemoteEvent:
        """Our event as a provider sees it; ``complete``: the provider carries EXDATEs and
        per-occurrence overrides (CalDAV), so theirs replace ours."""
        return cls(
            external_id=external_id,
            uid=ev.uid,
            title=ev.title,
            start=ev.start,
            end=ev.end,
            start_date=ev.start_date if ev.all_day else None,
            end_date=ev.end_date if ev.all_day else None,
            all_day=ev.all_day,
            timezone=ev.timezone,
            rrule=ev.rrule,
            description=ev.description,
            location=ev.location,
            updated_at=ev.updated_at,
            exdates=list(ev.exdates),
            exdates_known=complete,
            overrides=dict(ev.overrides),
            overrides_known=complete,
            rdates=list(ev.rdates),
            exrule=ev.exrule,
            organizer=ev.organizer,
            attendees=list(ev.attendees),
            extras_known=complete,
        )


@dataclass
class SyncBatch:
    changes: list[RemoteEvent] = field(default_factory=list)
    cursor: str | None = None
    full: bool = False  # the provider rejected the cursor and sent everything


class CalendarSyncProvider(Protocol):
    """One remote calendar service (Google Calendar, Microsoft Graph, CalDAV)."""

    name: str

    async def pull(self, remote_calendar: str, cursor: str | None) -> SyncBatch: ...

    async def push(self, remote_calendar: str, event: RemoteEvent) -> str:
        """Create (no external id) or update the remote event; return its id."""
        ...

    async def delete(self, remote_calendar: str, external_id: str) -> None: ...

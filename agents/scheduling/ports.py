"""Ports of the scheduling worker: its key-value state, its event stream, calendar sync."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol


class KeyValueStore(Protocol):
    """Durable state (a RocksDB Faust table in production). Writes only inside a command."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, value: bytes) -> None: ...

    def delete(self, key: str) -> None: ...

    def keys(self, prefix: str) -> list[str]: ...

    def scan(self, prefix: str) -> Iterator[tuple[str, bytes]]: ...


class EventPublisher(Protocol):
    """Publishes domain events (e.g. `reminder.due`) to the worker's events topic."""

    async def publish(self, key: str, event: dict[str, Any]) -> None: ...


class CommandSender(Protocol):
    """Sends a command to this worker's own requests topic (used by timers)."""

    async def send(self, command_id: str, command_type: str, payload: dict[str, Any]) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


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
    description: str = ""
    location: str = ""
    updated_at: datetime | None = None
    deleted: bool = False


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

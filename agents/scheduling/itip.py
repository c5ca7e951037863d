"""iTIP (RFC 5546) messages in an imported file: CANCEL, REPLY, ADD, REFRESH, COUNTER,
DECLINECOUNTER refer to an event already stored (by UID) instead of carrying a new one.

RFC 5545 3.6.1 makes DTSTART optional in a VEVENT when the calendar has a METHOD,
so such a VEVENT is read here as a message, not as an event. ``apply`` is pure:
it returns what happens to the stored event and the handler stores it (after the
same ``validate_event`` as every other write) or deletes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from agents.scheduling.ics_values import as_int, attendees_of, to_event
from agents.scheduling.ics_zones import Zones
from agents.scheduling.model import Attendee, Event, Override, zone
from agents.scheduling.recurrence import recurrence_key
from enginedge_streams.errors import ValidationError

# PUBLISH and REQUEST carry whole events (DTSTART required, RFC 5546 3.2.1/3.2.2).
MESSAGE_METHODS = frozenset({"CANCEL", "REPLY", "ADD", "REFRESH", "COUNTER", "DECLINECOUNTER"})


@dataclass(frozen=True)
class ItipItem:
    method: str
    uid: str
    sequence: int
    recurrence_id: date | datetime | None  # a naive datetime is floating: the event's own zone
    this_and_future: bool = False
    attendees: tuple[Attendee, ...] = ()
    instance: Event | None = None  # ADD: the new instance


@dataclass
class Applied:
    action: str  # cancelled | updated | unchanged | skipped
    event: Event | None = None
    code: str = ""  # for skipped items and notes
    message: str = ""
    notes: list[tuple[str, str]] = field(default_factory=list)  # (code, message) warnings


def read_item(
    comp: Any, method: str, uid: str, zones: Zones, *, calendar_id: str, now: datetime
) -> ItipItem:
    rid = comp.decoded("recurrence-id") if comp.get("recurrence-id") is not None else None
    if rid is not None and not isinstance(rid, date):
        raise ValidationError("RECURRENCE-ID is not a date or date-time", code="INVALID_OVERRIDE")
    if isinstance(rid, datetime) and rid.tzinfo is not None:
        rid = rid.astimezone(UTC)
    params = getattr(comp.get("recurrence-id"), "params", {})
    people = tuple(attendees_of(comp))
    if method == "REPLY" and not people:
        raise ValidationError("a REPLY names no ATTENDEE", code="ITIP_INVALID")
    instance = to_event(comp, uid, calendar_id, zones, now) if method == "ADD" else None
    return ItipItem(
        method=method,
        uid=uid,
        sequence=as_int(comp.get("sequence", 0)),
        recurrence_id=rid,
        this_and_future=str(params.get("RANGE", "")).upper() == "THISANDFUTURE",
        attendees=people,
        instance=instance,
    )


def _key(item: ItipItem, ev: Event) -> str:
    rid = item.recurrence_id
    assert rid is not None
    if isinstance(rid, datetime):
        if rid.tzinfo is None:
            rid = rid.replace(tzinfo=zone(ev.timezone))
        return recurrence_key(rid.astimezone(UTC) if not ev.all_day else rid.date())
    return recurrence_key(rid)


def apply(item: ItipItem, stored: Event | None, now: datetime) -> Applied:
    """What ``item`` does to the stored event with its UID (``None``: not in the calendar)."""
    if stored is None:
        return Applied(
            "skipped",
            code="ITIP_TARGET_NOT_FOUND",
            message=f"{item.method} for UID {item.uid!r}: no stored event has this UID;"
            " nothing was changed",
        )
    if item.method in {"CANCEL", "REPLY", "ADD"} and item.sequence < stored.sequence:
        return Applied(
            "skipped",
            code="ITIP_STALE",
            message=f"{item.method} has SEQUENCE {item.sequence}, the stored event"
            f" {stored.sequence}: it refers to an older version",
        )
    handler = {"CANCEL": _cancel, "REPLY": _reply, "ADD": _add}.get(item.method)
    if handler is not None:
        return handler(item, stored.model_copy(deep=True), now)
    if item.method == "COUNTER":
        return Applied(
            "skipped",
            code="ITIP_COUNTER_NOT_APPLIED",
            message="a counter-proposal needs the organizer's decision; the event is unchanged",
        )
    note = ("ITIP_NO_REPLY_SENT", "REFRESH asks for the latest version; this worker sends no mail")
    return Applied(  # REFRESH, DECLINECOUNTER: nothing to change here
        "unchanged", stored, notes=[note] if item.method == "REFRESH" else []
    )


def _changed(ev: Event, item: ItipItem, now: datetime) -> Applied:
    ev.sequence = max(ev.sequence, item.sequence)
    ev.updated_at = now
    return Applied("updated", ev)


def _cancel(item: ItipItem, ev: Event, now: datetime) -> Applied:
    if item.recurrence_id is None:
        return Applied("cancelled", ev)
    if item.this_and_future:
        return Applied(
            "skipped",
            code="ITIP_RANGE_UNSUPPORTED",
            message="RANGE=THISANDFUTURE is not applied; cancel the series or single instances",
        )
    key = _key(item, ev)
    current = ev.overrides.get(key)
    if current is not None and current.cancelled:
        return Applied("unchanged", ev)
    ev.overrides[key] = Override(cancelled=True)
    return _changed(ev, item, now)


def _reply(item: ItipItem, ev: Event, now: datetime) -> Applied:
    if item.recurrence_id is not None:
        return Applied(
            "skipped",
            code="ITIP_INSTANCE_REPLY",
            message="a reply for one instance: participation is stored per event, not instance",
        )
    by_email = {a.email: a for a in ev.attendees}
    notes = []
    changed = False
    for person in item.attendees:
        known = by_email.get(person.email)
        if known is None:  # RFC 5546 3.2.3: an uninvited attendee may reply; kept, and said so
            ev.attendees.append(person)
            notes.append(("ITIP_ATTENDEE_ADDED", f"{person.email} replied without an invitation"))
            changed = True
        elif known.partstat != person.partstat:
            known.partstat = person.partstat
            changed = True
    if not changed:
        return Applied("unchanged", ev)
    out = _changed(ev, item, now)
    out.notes = notes
    return out


def _add(item: ItipItem, ev: Event, now: datetime) -> Applied:
    new = item.instance
    assert new is not None
    if new.all_day != ev.all_day:
        return Applied(
            "skipped",
            code="ITIP_INVALID",
            message="ADD: the instance is all-day and the event is not, or the reverse",
        )
    if ev.all_day:
        assert new.start_date is not None
        at = datetime.combine(new.start_date, time(0), tzinfo=UTC)
        key = recurrence_key(new.start_date)
    else:
        assert new.start is not None
        at, key = new.start, recurrence_key(new.start)
    if at in ev.rdates:
        return Applied("unchanged", ev)
    ev.rdates = sorted({*ev.rdates, at})
    if not ev.all_day and new.start is not None and new.end is not None:
        assert ev.start is not None
        assert ev.end is not None
        if new.end - new.start != ev.end - ev.start or new.title != ev.title:
            ev.overrides[key] = Override(start=new.start, end=new.end, title=new.title)
    return _changed(ev, item, now)

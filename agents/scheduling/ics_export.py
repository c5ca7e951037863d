"""RFC 5545 export with ``icalendar``: masters (RRULE, RDATE, EXRULE, EXDATE, alarms,
attendees) and one VEVENT per RECURRENCE-ID override."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar

from agents.scheduling.model import Calendar, Event, zone
from agents.scheduling.recurrence import normalise_rrule

PRODID = "-//EnginEdge Streams//scheduling//EN"


def export_calendar(cal: Calendar, events: list[Event]) -> str:
    out = icalendar.Calendar()
    out.add("prodid", PRODID)
    out.add("version", "2.0")
    out.add("x-wr-calname", cal.name)
    out.add("x-wr-timezone", cal.timezone)
    for ev in sorted(events, key=lambda e: e.event_id):
        tz = zone(ev.timezone)
        out.add_component(_master(ev, tz))
        for key, ov in sorted(ev.overrides.items()):
            child = icalendar.Event()
            child.add("uid", ev.uid)
            child.add("recurrence-id", _instant(ev, key, tz))
            child.add("dtstamp", ev.updated_at)
            child.add("summary", ov.title or ev.title)
            if ov.cancelled:
                child.add("status", "CANCELLED")
            if ov.start is not None:
                child.add("dtstart", ov.start.astimezone(tz))
                child.add("dtend", (ov.end or ov.start).astimezone(tz))
            elif not ov.cancelled and ev.start and ev.end and not ev.all_day:
                orig = datetime.fromisoformat(key.replace("Z", "+00:00"))
                child.add("dtstart", orig.astimezone(tz))
                child.add("dtend", (orig + (ev.end - ev.start)).astimezone(tz))
            out.add_component(child)
    out.add_missing_timezones()
    return str(out.to_ical().decode())


def _instant(ev: Event, key: str, tz: Any) -> date | datetime:
    if ev.all_day:
        return date.fromisoformat(key)
    return datetime.fromisoformat(key.replace("Z", "+00:00")).astimezone(tz)


def _master(ev: Event, tz: Any) -> icalendar.Event:
    v = _vevent(ev, tz)
    if ev.rrule:
        v.add("rrule", icalendar.vRecur.from_ical(normalise_rrule(ev.rrule)))
    if ev.exrule:
        v.add("exrule", icalendar.vRecur.from_ical(normalise_rrule(ev.exrule)))
    for rd in ev.rdates:
        v.add("rdate", rd.astimezone(UTC).date() if ev.all_day else rd.astimezone(tz))
    for ex in ev.exdates:
        v.add("exdate", ex.astimezone(UTC).date() if ev.all_day else ex.astimezone(tz))
    if ev.organizer:
        v.add("organizer", icalendar.vCalAddress(f"mailto:{ev.organizer}"))
    for person in ev.attendees:
        address = icalendar.vCalAddress(f"mailto:{person.email}")
        address.params["PARTSTAT"] = person.partstat
        if person.name:
            address.params["CN"] = person.name
        if person.role:
            address.params["ROLE"] = person.role
        v.add("attendee", address)
    for minutes in ev.reminders:
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", ev.title)
        alarm.add("trigger", timedelta(minutes=-minutes))
        v.add_component(alarm)
    return v


def _vevent(ev: Event, tz: Any) -> icalendar.Event:
    v = icalendar.Event()
    v.add("uid", ev.uid)
    v.add("dtstamp", ev.updated_at.astimezone(UTC))
    v.add("last-modified", ev.updated_at.astimezone(UTC))
    v.add("sequence", ev.sequence)
    v.add("summary", ev.title)
    if ev.description:
        v.add("description", ev.description)
    if ev.location:
        v.add("location", ev.location)
    if ev.all_day:
        v.add("dtstart", ev.start_date)
        v.add("dtend", ev.end_date)
    else:
        assert ev.start is not None
        assert ev.end is not None
        v.add("dtstart", ev.start.astimezone(tz))
        v.add("dtend", ev.end.astimezone(tz))
    v.add("transp", "OPAQUE" if ev.busy else "TRANSPARENT")
    return v

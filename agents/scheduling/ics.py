"""RFC 5545 import/export with ``icalendar``: events, RRULE, EXDATE, overrides, alarms."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar

from agents.scheduling.model import Calendar, Event, Override
from agents.scheduling.recurrence import normalise_rrule, recurrence_key
from enginedge_streams.errors import LimitExceededError, ValidationError

PRODID = "-//EnginEdge Streams//scheduling//EN"
MAX_EVENTS = 5_000
_TRIGGER = re.compile(r"^-P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def export_calendar(cal: Calendar, events: list[Event]) -> str:
    out = icalendar.Calendar()
    out.add("prodid", PRODID)
    out.add("version", "2.0")
    out.add("x-wr-calname", cal.name)
    out.add("x-wr-timezone", cal.timezone)
    from agents.scheduling.model import zone

    for ev in sorted(events, key=lambda e: e.event_id):
        tz = zone(ev.timezone)
        master = _vevent(ev, tz)
        if ev.rrule:
            master.add("rrule", icalendar.vRecur.from_ical(normalise_rrule(ev.rrule)))
        for ex in ev.exdates:
            master.add("exdate", ex.astimezone(UTC).date() if ev.all_day else ex.astimezone(tz))
        for minutes in ev.reminders:
            alarm = icalendar.Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", ev.title)
            alarm.add("trigger", timedelta(minutes=-minutes))
            master.add_component(alarm)
        out.add_component(master)
        for key, ov in sorted(ev.overrides.items()):
            child = icalendar.Event()
            child.add("uid", ev.uid)
            if ev.all_day:
                child.add("recurrence-id", date.fromisoformat(key))
            else:
                rid = datetime.fromisoformat(key.replace("Z", "+00:00"))
                child.add("recurrence-id", rid.astimezone(tz))
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


def uid_to_event_id(uid: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._@-]", "-", uid)[:120]
    return f"{safe}-{hashlib.sha256(uid.encode()).hexdigest()[:8]}"


def parse_calendar(text: str, calendar_id: str, default_tz: str, now: datetime) -> list[Event]:
    """Events of an iCalendar text: masters with their RECURRENCE-ID overrides folded in."""
    try:
        cal = icalendar.Calendar.from_ical(text)
    except ValueError as exc:
        raise ValidationError(f"not a valid iCalendar file: {exc}", code="INVALID_ICS") from None
    components = list(cal.walk("VEVENT"))
    if len(components) > MAX_EVENTS:
        raise LimitExceededError(f"at most {MAX_EVENTS} VEVENTs per import", code="TOO_MANY_EVENTS")
    masters: dict[str, Event] = {}
    children: list[Any] = []
    for comp in components:
        uid = str(comp.get("uid") or "")
        if not uid:
            raise ValidationError("a VEVENT has no UID", code="INVALID_ICS")
        if comp.get("recurrence-id") is not None:
            children.append(comp)
            continue
        masters[uid] = _to_event(comp, uid, calendar_id, default_tz, now)
    for comp in children:
        uid = str(comp.get("uid"))
        master = masters.get(uid)
        if master is None:
            continue  # an override whose series is not in the file
        rid = comp.decoded("recurrence-id")
        key = recurrence_key(rid)
        cancelled = str(comp.get("status", "")).upper() == "CANCELLED"
        start = comp.decoded("dtstart") if comp.get("dtstart") is not None else None
        end = comp.decoded("dtend") if comp.get("dtend") is not None else None
        master.overrides[key] = Override(
            start=_aware(start, master.timezone) if isinstance(start, datetime) else None,
            end=_aware(end, master.timezone) if isinstance(end, datetime) else None,
            title=str(comp.get("summary")) if comp.get("summary") else None,
            cancelled=cancelled,
        )
    return list(masters.values())


def _aware(value: datetime, tz: str) -> datetime:
    from agents.scheduling.model import zone

    if value.tzinfo is None:
        value = value.replace(tzinfo=zone(tz))
    return value.astimezone(UTC)


def _to_event(comp: Any, uid: str, calendar_id: str, default_tz: str, now: datetime) -> Event:
    start = comp.decoded("dtstart")
    end = comp.decoded("dtend") if comp.get("dtend") is not None else None
    if end is None and comp.get("duration") is not None:
        end = start + comp.decoded("duration")
    tzid = comp["dtstart"].params.get("TZID") if hasattr(comp["dtstart"], "params") else None
    tz_name = default_tz
    if isinstance(start, datetime) and start.tzinfo is not None:
        key = getattr(start.tzinfo, "key", None)
        tz_name = key or (
            str(tzid) if tzid else ("UTC" if start.utcoffset() == timedelta(0) else default_tz)
        )
    fields: dict[str, Any] = {
        "event_id": uid_to_event_id(uid),
        "calendar_id": calendar_id,
        "uid": uid,
        "title": str(comp.get("summary") or "(no title)"),
        "description": str(comp.get("description") or ""),
        "location": str(comp.get("location") or ""),
        "timezone": tz_name,
        "busy": str(comp.get("transp", "OPAQUE")).upper() != "TRANSPARENT",
        "sequence": int(comp.get("sequence", 0)),
        "updated_at": _updated(comp, now),
    }
    if isinstance(start, datetime):
        fields["start"] = _aware(start, tz_name)
        fields["end"] = _aware(end, tz_name) if isinstance(end, datetime) else fields["start"]
    else:
        fields.update(all_day=True, start_date=start, end_date=end or start + timedelta(days=1))
    rrule = comp.get("rrule")
    if rrule is not None:
        fields["rrule"] = rrule.to_ical().decode()
    exdates: list[datetime] = []
    raw_ex = comp.get("exdate")
    for group in raw_ex if isinstance(raw_ex, list) else ([raw_ex] if raw_ex is not None else []):
        for item in group.dts:
            value = item.dt
            if isinstance(value, datetime):
                exdates.append(_aware(value, tz_name))
            else:
                exdates.append(datetime.combine(value, datetime.min.time(), tzinfo=UTC))
    fields["exdates"] = exdates
    fields["reminders"] = sorted(
        {m for alarm in comp.walk("VALARM") if (m := _trigger_minutes(alarm)) is not None}
    )
    return Event(**fields)


def _updated(comp: Any, now: datetime) -> datetime:
    for name in ("last-modified", "dtstamp"):
        if comp.get(name) is not None:
            value = comp.decoded(name)
            if isinstance(value, datetime):
                return value if value.tzinfo else value.replace(tzinfo=UTC)
    return now


def _trigger_minutes(alarm: Any) -> int | None:
    trig = alarm.get("trigger")
    if trig is None:
        return None
    value = alarm.decoded("trigger")
    if isinstance(value, timedelta) and value <= timedelta(0):
        return int(-value.total_seconds() // 60)
    return None

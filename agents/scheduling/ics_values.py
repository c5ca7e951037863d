"""One VEVENT's properties as an ``Event``: times, start derivation, RRULE/RDATE/EXRULE/EXDATE,
alarms, attendees, RECURRENCE-ID overrides. Raises ``ValidationError`` with a reason code."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from agents.scheduling.ics_zones import Zones
from agents.scheduling.model import Attendee, Event, Override
from agents.scheduling.recurrence import recurrence_key
from enginedge_streams.errors import ValidationError

DERIVED_UID_SUFFIX = "@derived.enginedge"


def uid_to_event_id(uid: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._@-]", "-", uid)[:120]
    return f"{safe}-{hashlib.sha256(uid.encode()).hexdigest()[:8]}"


def derived_uid(comp: Any) -> str:
    """A stable UID from the component's own content (DTSTAMP left out: exporters restamp it)."""
    lines = sorted(
        line
        for line in comp.to_ical().decode(errors="replace").splitlines()
        if not line.upper().startswith(("DTSTAMP", "BEGIN:", "END:"))
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:32] + DERIVED_UID_SUFFIX


def short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def item(comp: Any, code: str, message: str, uid: str | None = None) -> dict[str, str]:
    if uid is None:
        uid = str(comp.get("uid") or "") if hasattr(comp, "get") else ""
    return {"component": str(comp.name), "uid": uid, "code": code, "message": message[:300]}


def tzid_of(comp: Any, name: str) -> str | None:
    prop = comp.get(name)
    params = getattr(prop, "params", None)
    tzid = params.get("TZID") if params is not None else None
    return str(tzid) if tzid else None


def as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def address(value: Any) -> str:
    """``mailto:A@B.example`` -> ``a@b.example``."""
    text = str(value).strip()
    return (text[7:] if text.lower().startswith("mailto:") else text).lower()


def attendees_of(comp: Any) -> list[Attendee]:
    raw = comp.get("attendee")
    out: dict[str, Attendee] = {}
    for a in raw if isinstance(raw, list) else ([raw] if raw is not None else []):
        params = getattr(a, "params", {})
        email = address(a)
        if email:
            out[email] = Attendee(
                email=email,
                name=str(params.get("CN", "")),
                partstat=str(params.get("PARTSTAT", "NEEDS-ACTION")).upper(),
                role=str(params.get("ROLE", "")).upper(),
            )
    return list(out.values())


@dataclass(frozen=True)
class _RDate:
    value: date | datetime
    until: datetime | timedelta | None  # a PERIOD's end or length
    tzid: str | None


def _rdates(comp: Any, uid: str, zones: Zones) -> list[_RDate]:
    raw = comp.get("rdate")
    out = []
    for group in raw if isinstance(raw, list) else ([raw] if raw is not None else []):
        tzid = group.params.get("TZID") if hasattr(group, "params") else None
        try:
            entries = list(group.dts)
        except Exception as exc:  # icalendar keeps an unreadable value as a broken property
            zones.report.warn(uid, "RDATE_IGNORED", f"an unreadable RDATE left out: {short(exc)}")
            continue
        for entry in entries:
            value = entry.dt
            if isinstance(value, tuple):
                out.append(_RDate(value[0], value[1], tzid))
            else:
                out.append(_RDate(value, None, tzid))
    return out


def _duration(comp: Any) -> timedelta | None:
    if comp.get("duration") is None:
        return None
    value = comp.decoded("duration")
    if not isinstance(value, timedelta):
        raise ValidationError("DURATION is not a duration", code="INVALID_DURATION")
    return value


def _start_end(comp: Any, uid: str, zones: Zones, rdates: list[_RDate]) -> tuple[Any, Any, Any]:
    """(start, end, tzid); a start missing from the VEVENT derived only where RFC 5545 fixes it."""
    length = _duration(comp)
    end = comp.decoded("dtend") if comp.get("dtend") is not None else None
    if comp.get("dtstart") is not None:
        start = comp.decoded("dtstart")
        if end is None and length is not None and isinstance(start, date):
            try:
                end = start + length
            except TypeError:
                raise ValidationError(
                    "DURATION does not fit DTSTART", code="INVALID_DURATION"
                ) from None
        return start, end, tzid_of(comp, "dtstart")
    if end is not None and length is not None:  # DTSTART = DTEND - DURATION, exactly
        zones.report.warn(uid, "DTSTART_DERIVED", "no DTSTART; read as DTEND minus DURATION")
        return end - length, end, tzid_of(comp, "dtend")
    typed = [r for r in rdates if isinstance(r.value, (date, datetime))]
    if typed:  # the recurrence set is exactly the RDATEs: the first one is the first instance
        first = min(typed, key=lambda r: _instant(r.value, zones))
        zones.report.warn(
            uid,
            "DTSTART_FROM_RDATE",
            "no DTSTART; the earliest RDATE is the first instance, the others follow it",
        )
        stop = first.until if first.until is not None else length
        if isinstance(stop, timedelta):
            return first.value, first.value + stop, first.tzid
        return first.value, stop, first.tzid
    raise ValidationError("the VEVENT has no DTSTART", code="MISSING_DTSTART")


def _instant(value: date | datetime, zones: Zones) -> datetime:
    if isinstance(value, datetime):
        return zones.aware(value, zones.default_tz)
    return zones.aware(datetime.combine(value, time(0)), zones.default_tz)


def to_event(comp: Any, uid: str, calendar_id: str, zones: Zones, now: datetime) -> Event:
    rdates = _rdates(comp, uid, zones)
    start, end, tzid = _start_end(comp, uid, zones, rdates)
    tz_name = zones.default_tz
    if isinstance(start, datetime):
        tz_name = zones.name_of(start, tzid, uid)
    rrule = comp.get("rrule")
    if isinstance(rrule, list):
        raise ValidationError("only one RRULE per event is supported", code="INVALID_RRULE")
    exrule = comp.get("exrule")
    if isinstance(exrule, list):
        raise ValidationError("only one EXRULE per event is supported", code="INVALID_RRULE")
    fields: dict[str, Any] = {
        "event_id": uid_to_event_id(uid),
        "calendar_id": calendar_id,
        "uid": uid,
        "title": str(comp.get("summary") or "(no title)"),
        "description": str(comp.get("description") or ""),
        "location": str(comp.get("location") or ""),
        "timezone": tz_name,
        "busy": str(comp.get("transp", "OPAQUE")).upper() != "TRANSPARENT",
        "sequence": as_int(comp.get("sequence", 0)),
        "updated_at": _updated(comp, now),
        "organizer": address(comp.get("organizer") or ""),
        "attendees": attendees_of(comp),
    }
    fields.update(_times(start, end, tz_name, zones))
    if rrule is not None:
        fields["rrule"] = _rule_text(rrule.to_ical().decode(), uid, zones)
    if exrule is not None:
        fields["exrule"] = _rule_text(exrule.to_ical().decode(), uid, zones)
    fields["exdates"] = sorted(set(_exdates(comp, zones, tz_name)))
    fields["reminders"] = sorted(
        {m for alarm in comp.walk("VALARM") if (m := _trigger_minutes(alarm)) is not None}
    )
    ev = Event(**fields)
    _add_rdates(ev, rdates, uid, zones)
    return ev


def _exdates(comp: Any, zones: Zones, tz_name: str) -> list[datetime]:
    out = []
    raw = comp.get("exdate")
    for group in raw if isinstance(raw, list) else ([raw] if raw is not None else []):
        for entry in group.dts:
            value = entry.dt
            if isinstance(value, datetime):
                out.append(zones.aware(value, tz_name))
            else:
                out.append(datetime.combine(value, time(0), tzinfo=UTC))
    return out


def _add_rdates(ev: Event, rdates: list[_RDate], uid: str, zones: Zones) -> None:
    """RDATEs of the event's kind as extra starts; a PERIOD of another length as an override."""
    first = ev.start if not ev.all_day else None
    length = (ev.end - ev.start) if ev.start is not None and ev.end is not None else None
    kept: set[datetime] = set()
    ignored: list[str] = []
    for r in rdates:
        if ev.all_day and type(r.value) is date:
            kept.add(datetime.combine(r.value, time(0), tzinfo=UTC))
        elif not ev.all_day and isinstance(r.value, datetime):
            at = zones.aware(r.value, ev.timezone)
            if at == first:
                continue
            kept.add(at)
            stop = r.until
            if isinstance(stop, timedelta):
                stop = r.value + stop
            if isinstance(stop, datetime) and length is not None:
                stop = zones.aware(stop, ev.timezone)
                if stop - at != length:
                    ev.overrides[recurrence_key(at)] = Override(start=at, end=stop)
        else:
            ignored.append(f"{r.value.isoformat()} ({_kind(r.value)})")
    if ignored:  # a DATE on a timed event (or the reverse) has no time to be placed at
        kind = "an all-day" if ev.all_day else "a timed"
        zones.report.warn(
            uid, "RDATE_IGNORED", f"RDATE values left out of {kind} event: {', '.join(ignored)}"
        )
    if ev.all_day and ev.start_date is not None:
        kept.discard(datetime.combine(ev.start_date, time(0), tzinfo=UTC))
    ev.rdates = sorted(kept)


def _kind(value: object) -> str:
    if isinstance(value, datetime):
        return "date-time"
    return "date" if isinstance(value, date) else f"{type(value).__name__}, not RFC 5545"


def _times(start: Any, end: Any, tz_name: str, zones: Zones) -> dict[str, Any]:
    if isinstance(start, datetime):
        if isinstance(end, datetime):
            stop = zones.aware(end, tz_name)
        elif isinstance(end, date):  # a DATE end on a DATE-TIME start: that day's midnight
            stop = zones.aware(datetime.combine(end, time(0)), tz_name)
        else:
            stop = zones.aware(start, tz_name)
        return {"start": zones.aware(start, tz_name), "end": stop}
    if isinstance(start, date):
        end_date = end.date() if isinstance(end, datetime) else end
        if end_date is None or end_date == start:
            end_date = start + timedelta(days=1)
        return {"all_day": True, "start_date": start, "end_date": end_date}
    what = "more than one DTSTART" if isinstance(start, list) else "not a date or date-time"
    raise ValidationError(f"DTSTART is {what}", code="INVALID_DTSTART")


def _rule_text(raw: str, uid: str, zones: Zones) -> str:
    """The rule as text; backslash-escaped parts (``FREQ=DAILY\\;BYDAY=MO\\, TU``) unescaped."""
    if "\\" not in raw:
        return raw
    fixed = re.sub(r"\\([;,])", r"\1", raw).replace(", ", ",")
    zones.report.warn(
        uid, "RRULE_REPAIRED", f"the rule {raw!r} had escaped separators; read as {fixed!r}"
    )
    return fixed


def _updated(comp: Any, now: datetime) -> datetime:
    for name in ("last-modified", "dtstamp"):
        if comp.get(name) is not None:
            try:
                value = comp.decoded(name)
            except Exception:  # a broken stamp: the import time stands in
                value = None
            if isinstance(value, datetime):
                return value if value.tzinfo else value.replace(tzinfo=UTC)
    return now


def _trigger_minutes(alarm: Any) -> int | None:
    if alarm.get("trigger") is None:
        return None
    try:
        value = alarm.decoded("trigger")
    except Exception:
        return None
    if isinstance(value, timedelta) and value <= timedelta(0):
        return int(-value.total_seconds() // 60)
    return None


def override_of(comp: Any, tz_name: str, zones: Zones) -> tuple[str, Override]:
    """A RECURRENCE-ID instance as (recurrence key, Override); floating times in ``tz_name``."""
    rid = comp.decoded("recurrence-id")
    if isinstance(rid, datetime):
        rid = zones.aware(rid, tz_name)
    key = recurrence_key(rid)
    cancelled = str(comp.get("status", "")).upper() == "CANCELLED"
    start = comp.decoded("dtstart") if comp.get("dtstart") is not None else None
    end = comp.decoded("dtend") if comp.get("dtend") is not None else None
    if isinstance(start, datetime) and end is None and comp.get("duration") is not None:
        end = start + comp.decoded("duration")
    ov = Override(
        start=zones.aware(start, tz_name) if isinstance(start, datetime) else None,
        end=zones.aware(end, tz_name) if isinstance(end, datetime) else None,
        title=str(comp.get("summary")) if comp.get("summary") else None,
        cancelled=cancelled,
    )
    if ov.start is not None and ov.end is not None and ov.end < ov.start:
        raise ValidationError("the override ends before it starts", code="END_BEFORE_START")
    return key, ov

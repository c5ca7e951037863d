"""RFC 5545 import/export with ``icalendar``: events, RRULE, EXDATE, overrides, alarms.

Import reads component by component: a VEVENT that cannot be stored (no DTSTART,
an RRULE dateutil cannot expand, an end before its start, ...) is reported in
``skipped`` with a reason code and the rest of the file is imported. Time zones
are resolved to IANA names: IANA TZIDs as they are, Windows names through the
CLDR windowsZones table icalendar ships (``WINDOWS_TO_OLSON``), a calendar's own
VTIMEZONE (custom names, "UTC+11") to the IANA zone with the same offsets over
the event's years (or a fixed ``Etc/GMT±N``). A TZID that is none of these is
read in the calendar's zone *and reported* (``UNKNOWN_TZID``). VTODOs become
planner tasks (``schedule.plan``'s ``tasks``); other components are reported as
``UNSUPPORTED_COMPONENT``.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import icalendar
import pydantic
from icalendar.timezone import use_zoneinfo
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from agents.scheduling.model import Calendar, Event, Override
from agents.scheduling.recurrence import normalise_rrule, recurrence_key
from agents.scheduling.validation import validate_event
from enginedge_streams.errors import LimitExceededError, PermanentError, ValidationError

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


@dataclass
class ImportReport:
    """What one iCalendar text holds, component by component."""

    events: list[Event] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)  # TaskIn-shaped, for schedule.plan
    skipped: list[dict[str, str]] = field(default_factory=list)  # component, uid, code, message
    warnings: list[dict[str, str]] = field(default_factory=list)


_SUPPORTED = {"VEVENT", "VTODO", "VTIMEZONE"}
_DERIVED_UID_SUFFIX = "@derived.enginedge"


def parse_calendar(text: str, calendar_id: str, default_tz: str, now: datetime) -> list[Event]:
    """The events of an iCalendar text that pass validation (see ``read_calendar``)."""
    return read_calendar(text, calendar_id, default_tz, now).events


def read_calendar(text: str, calendar_id: str, default_tz: str, now: datetime) -> ImportReport:
    """Events (masters with their RECURRENCE-ID overrides), tasks, and what was skipped and why."""
    report = ImportReport()
    # icalendar caches VTIMEZONEs by TZID process-wide, first definition wins: without this
    # reset one user's "Office" zone would be used for the next file's "Office".
    use_zoneinfo()  # type: ignore[no-untyped-call]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        components = _components(text.lstrip("\ufeff"))  # a UTF-8 BOM is fine
        reader = _Reader(calendar_id, _Zones(default_tz, report), now, report)
        children: list[tuple[str, Any]] = []
        for comp in components:
            child = reader.component(comp)
            if child is not None:
                children.append(child)
        for uid, comp in children:
            reader.override(uid, comp)
    for w in caught:
        if not issubclass(w.category, DeprecationWarning):
            report.warnings.append(
                {"component": "VCALENDAR", "uid": "", "code": "PARSER_WARNING",
                 "message": str(w.message)[:300]}
            )  # fmt: skip
    report.events = list(reader.masters.values())
    return report


def _components(text: str) -> list[Any]:
    try:
        parsed = icalendar.Calendar.from_ical(text, multiple=True)
    except Exception as exc:  # icalendar raises ValueError and, on odd input, others
        raise ValidationError(
            f"not a valid iCalendar file: {_short(exc)}", code="INVALID_ICS"
        ) from None
    components: list[Any] = []
    for top in parsed:
        components.extend(top.subcomponents if top.name == "VCALENDAR" else [top])
    if not components:
        raise ValidationError("the iCalendar file holds no components", code="INVALID_ICS")
    if sum(1 for c in components if c.name == "VEVENT") > MAX_EVENTS:
        raise LimitExceededError(f"at most {MAX_EVENTS} VEVENTs per import", code="TOO_MANY_EVENTS")
    return components


class _Reader:
    """One file's components in order; masters by UID."""

    def __init__(self, calendar_id: str, zones: _Zones, now: datetime, report: ImportReport):
        self.calendar_id = calendar_id
        self.zones = zones
        self.now = now
        self.report = report
        self.masters: dict[str, Event] = {}

    def component(self, comp: Any) -> tuple[str, Any] | None:
        """Read a top-level component; an override is returned for after the masters."""
        name = str(comp.name)
        if name not in _SUPPORTED:
            self.skip(comp, "UNSUPPORTED_COMPONENT", f"{name} is not imported")
            return None
        if name == "VTODO":
            _todo(comp, self.report, self.zones)
        if name != "VEVENT":
            return None
        uid = str(comp.get("uid") or "").strip()
        if not uid:
            uid = _derived_uid(comp)
            self.warn(uid, "UID_DERIVED", "the VEVENT has no UID; one was derived from its content")
        if comp.get("recurrence-id") is not None:
            return uid, comp
        ev = self.checked(comp, uid)
        if ev is not None and uid in self.masters:
            self.skip(comp, "DUPLICATE_UID", "another VEVENT with this UID came first", uid)
        elif ev is not None:
            self.masters[uid] = ev
        return None

    def override(self, uid: str, comp: Any) -> None:
        master = self.masters.get(uid)
        if master is None:
            self.orphan(comp, uid)
            return
        try:
            key, ov = _override_of(comp, master, self.zones)
        except Exception as exc:  # a bad RECURRENCE-ID or time in the instance
            self.skip(comp, getattr(exc, "code", "INVALID_OVERRIDE"), _short(exc), uid)
            return
        if key in master.overrides:
            self.skip(comp, "DUPLICATE_UID", f"a second override for {key}", uid)
            return
        master.overrides[key] = ov

    def checked(self, comp: Any, uid: str) -> Event | None:
        """The VEVENT as a valid Event, or None with the reason in ``skipped``."""
        try:
            return validate_event(_to_event(comp, uid, self.calendar_id, self.zones, self.now))
        except PermanentError as exc:
            self.skip(comp, exc.code, str(exc), uid)
        except pydantic.ValidationError as exc:
            self.skip(comp, "INVALID_EVENT", _pyd(exc), uid)
        except Exception as exc:  # a value icalendar could not decode
            self.skip(comp, "INVALID_EVENT", _short(exc), uid)
        return None

    def orphan(self, comp: Any, uid: str) -> None:
        """An instance whose series is not in the file: the first per UID as a single event."""
        if uid in self.masters:
            self.skip(comp, "ORPHAN_OVERRIDE", "a second instance of a series not in the file", uid)
            return
        if str(comp.get("status", "")).upper() == "CANCELLED":
            self.skip(comp, "ORPHAN_OVERRIDE", "a cancelled instance of a series not here", uid)
            return
        ev = self.checked(comp, uid)
        if ev is None:
            return
        ev.rrule, ev.exdates = None, []
        self.masters[uid] = ev
        self.warn(
            uid,
            "ORPHAN_OVERRIDE",
            "a RECURRENCE-ID instance whose series is not in the file; imported as a single event",
        )

    def skip(self, comp: Any, code: str, message: str, uid: str | None = None) -> None:
        self.report.skipped.append(_item(comp, code, message, uid))

    def warn(self, uid: str, code: str, message: str) -> None:
        self.report.warnings.append(
            {"component": "VEVENT", "uid": uid, "code": code, "message": message}
        )


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def _pyd(exc: pydantic.ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])


def _item(comp: Any, code: str, message: str, uid: str | None = None) -> dict[str, str]:
    if uid is None:
        uid = str(comp.get("uid") or "") if hasattr(comp, "get") else ""
    return {"component": str(comp.name), "uid": uid, "code": code, "message": message[:300]}


def _derived_uid(comp: Any) -> str:
    """A stable UID from the VEVENT's own content (DTSTAMP left out: exporters restamp it)."""
    lines = sorted(
        line
        for line in comp.to_ical().decode(errors="replace").splitlines()
        if not line.upper().startswith(("DTSTAMP", "BEGIN:", "END:"))
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:32] + _DERIVED_UID_SUFFIX


class _Zones:
    """TZIDs and tzinfos of one file to IANA names, each problem reported once."""

    def __init__(self, default_tz: str, report: ImportReport) -> None:
        self.default_tz = default_tz
        self.report = report
        self.reported: set[str] = set()

    def name_of(self, value: datetime, tzid: str | None, uid: str) -> str:
        """The IANA zone an aware/floating DTSTART belongs to."""
        if value.tzinfo is None:
            if tzid:  # a TZID neither IANA, Windows nor defined in the file
                self._warn(tzid, uid)
            return self.default_tz
        key = getattr(value.tzinfo, "key", None)
        if isinstance(key, str) and _iana(key):
            return key
        if tzid:
            mapped = _known_tzid(tzid)
            if mapped:
                return mapped
        if value.utcoffset() == timedelta(0) and not tzid:
            return "UTC"
        found = _matching_zone(value.tzinfo, value.year)
        if found is None:
            found = _fixed_zone(value)
            self.report.warnings.append(
                {
                    "component": "VEVENT",
                    "uid": uid,
                    "code": "VTIMEZONE_APPROXIMATED",
                    "message": f"no IANA zone has the offsets of the VTIMEZONE {tzid!r}; the"
                    f" event keeps its instant, recurrences use the fixed zone {found}",
                }
            )
        return found

    def aware(self, value: datetime, tz_name: str) -> datetime:
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo(tz_name))
        return value.astimezone(UTC)

    def _warn(self, tzid: str, uid: str) -> None:
        if tzid in self.reported:
            return
        self.reported.add(tzid)
        self.report.warnings.append(
            {
                "component": "VEVENT",
                "uid": uid,
                "code": "UNKNOWN_TZID",
                "message": f"unknown TZID {tzid!r} (not IANA, not a Windows name, no VTIMEZONE);"
                f" its times were read in the calendar's zone {self.default_tz}",
            }
        )


@lru_cache(maxsize=1)
def _zone_names() -> tuple[str, ...]:
    names = sorted(available_timezones())
    # Region names first: a match prefers "Europe/Berlin" to "Etc/..." or legacy aliases.
    return tuple(
        sorted(names, key=lambda n: ("/" not in n or n.startswith(("Etc/", "SystemV/")), n))
    )


def _iana(name: str) -> bool:
    try:
        ZoneInfo(name)
    except Exception:
        return False
    return True


def _known_tzid(tzid: str) -> str | None:
    tzid = tzid.strip().strip('"')
    if _iana(tzid):
        return tzid
    mapped = WINDOWS_TO_OLSON.get(tzid)
    if mapped and _iana(mapped):
        return str(mapped)
    return None


_SAMPLE_DAYS = (0, 45, 80, 100, 120, 170, 230, 280, 300, 320, 340, 364)


def _fixed_zone(value: datetime) -> str:
    offset = value.utcoffset() or timedelta(0)
    hours, rest = divmod(int(offset.total_seconds()), 3600)
    if rest or not -12 <= hours <= 14:
        return "UTC"
    return "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"


def _matching_zone(tz: tzinfo, year: int) -> str | None:
    """The IANA zone whose offsets equal a custom VTIMEZONE's over the event's year."""
    samples = [datetime(year, 1, 1, 12) + timedelta(days=d) for d in _SAMPLE_DAYS]
    wanted = [tz.utcoffset(s) for s in samples]
    if any(w is None for w in wanted):
        return None
    if len(set(wanted)) == 1:  # a fixed offset ("UTC+11"): Etc/GMT-11, not some region's zone
        fixed = _fixed_zone(samples[0].replace(tzinfo=tz))
        if fixed != "UTC" or wanted[0] == timedelta(0):
            return fixed
    for name in _zone_names():
        zi = ZoneInfo(name)
        if all(zi.utcoffset(s) == w for s, w in zip(samples, wanted, strict=True)):
            return name
    return None


def _override_of(comp: Any, master: Event, zones: _Zones) -> tuple[str, Override]:
    rid = comp.decoded("recurrence-id")
    if isinstance(rid, datetime):
        rid = zones.aware(rid, master.timezone)
    key = recurrence_key(rid)
    cancelled = str(comp.get("status", "")).upper() == "CANCELLED"
    start = comp.decoded("dtstart") if comp.get("dtstart") is not None else None
    end = comp.decoded("dtend") if comp.get("dtend") is not None else None
    if isinstance(start, datetime) and end is None and comp.get("duration") is not None:
        end = start + comp.decoded("duration")
    ov = Override(
        start=zones.aware(start, master.timezone) if isinstance(start, datetime) else None,
        end=zones.aware(end, master.timezone) if isinstance(end, datetime) else None,
        title=str(comp.get("summary")) if comp.get("summary") else None,
        cancelled=cancelled,
    )
    if ov.start is not None and ov.end is not None and ov.end < ov.start:
        raise ValidationError("the override ends before it starts", code="END_BEFORE_START")
    return key, ov


def _tzid(comp: Any, name: str) -> str | None:
    prop = comp.get(name)
    params = getattr(prop, "params", None)
    tzid = params.get("TZID") if params is not None else None
    return str(tzid) if tzid else None


def _to_event(comp: Any, uid: str, calendar_id: str, zones: _Zones, now: datetime) -> Event:
    if comp.get("dtstart") is None:
        raise ValidationError("the VEVENT has no DTSTART", code="MISSING_DTSTART")
    start = comp.decoded("dtstart")
    end = comp.decoded("dtend") if comp.get("dtend") is not None else None
    if end is None and comp.get("duration") is not None:
        end = start + comp.decoded("duration")
    tz_name = zones.default_tz
    if isinstance(start, datetime):
        tz_name = zones.name_of(start, _tzid(comp, "dtstart"), uid)
    rrule = comp.get("rrule")
    if isinstance(rrule, list):
        raise ValidationError("only one RRULE per event is supported", code="INVALID_RRULE")
    fields: dict[str, Any] = {
        "event_id": uid_to_event_id(uid),
        "calendar_id": calendar_id,
        "uid": uid,
        "title": str(comp.get("summary") or "(no title)"),
        "description": str(comp.get("description") or ""),
        "location": str(comp.get("location") or ""),
        "timezone": tz_name,
        "busy": str(comp.get("transp", "OPAQUE")).upper() != "TRANSPARENT",
        "sequence": _int(comp.get("sequence", 0)),
        "updated_at": _updated(comp, now),
    }
    fields.update(_times(start, end, tz_name, zones))
    if rrule is not None:
        fields["rrule"] = _rrule_text(rrule.to_ical().decode(), uid, zones)
    exdates: list[datetime] = []
    raw_ex = comp.get("exdate")
    for group in raw_ex if isinstance(raw_ex, list) else ([raw_ex] if raw_ex is not None else []):
        for item in group.dts:
            value = item.dt
            if isinstance(value, datetime):
                exdates.append(zones.aware(value, tz_name))
            else:
                exdates.append(datetime.combine(value, datetime.min.time(), tzinfo=UTC))
    fields["exdates"] = sorted(set(exdates))
    fields["reminders"] = sorted(
        {m for alarm in comp.walk("VALARM") if (m := _trigger_minutes(alarm)) is not None}
    )
    for unsupported in ("rdate", "exrule"):
        if comp.get(unsupported) is not None:
            zones.report.warnings.append(
                {
                    "component": "VEVENT",
                    "uid": uid,
                    "code": f"{unsupported.upper()}_IGNORED",
                    "message": f"{unsupported.upper()} is not supported; the event was imported"
                    " without it",
                }
            )
    return Event(**fields)


def _times(start: Any, end: Any, tz_name: str, zones: _Zones) -> dict[str, Any]:
    if isinstance(start, datetime):
        if isinstance(end, datetime):
            stop = zones.aware(end, tz_name)
        elif isinstance(end, date):  # a DATE end on a DATE-TIME start: that day's midnight
            stop = zones.aware(datetime.combine(end, datetime.min.time()), tz_name)
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


def _rrule_text(raw: str, uid: str, zones: _Zones) -> str:
    """The RRULE as text; backslash-escaped parts (``FREQ=DAILY\\;BYDAY=MO\\, TU``) unescaped."""
    if "\\" not in raw:
        return raw
    fixed = re.sub(r"\\([;,])", r"\1", raw).replace(", ", ",")
    zones.report.warnings.append(
        {
            "component": "VEVENT",
            "uid": uid,
            "code": "RRULE_REPAIRED",
            "message": f"the RRULE {raw!r} had escaped separators; read as {fixed!r}",
        }
    )
    return fixed


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


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
    trig = alarm.get("trigger")
    if trig is None:
        return None
    try:
        value = alarm.decoded("trigger")
    except Exception:
        return None
    if isinstance(value, timedelta) and value <= timedelta(0):
        return int(-value.total_seconds() // 60)
    return None


_ICAL_PRIORITY = {1: 5, 2: 5, 3: 4, 4: 4, 5: 3, 6: 2, 7: 2, 8: 1, 9: 1}  # RFC 5545 -> planner


def _todo(comp: Any, report: ImportReport, zones: _Zones) -> None:
    """A VTODO as a planner task (``schedule.plan``'s TaskIn), or a skipped item."""
    from agents.scheduling.messages import TaskIn

    uid = str(comp.get("uid") or "").strip() or _derived_uid(comp)
    status = str(comp.get("status", "")).upper()
    if status in {"COMPLETED", "CANCELLED"} or comp.get("completed") is not None:
        report.skipped.append(_item(comp, "TASK_DONE", f"the task is {status or 'COMPLETED'}", uid))
        return
    try:
        start = comp.decoded("dtstart") if comp.get("dtstart") is not None else None
        due = comp.decoded("due") if comp.get("due") is not None else None
        minutes = 30
        if comp.get("duration") is not None:
            minutes = int(comp.decoded("duration").total_seconds() // 60)
        elif isinstance(start, datetime) and isinstance(due, datetime):
            minutes = int((due - start).total_seconds() // 60)
        minutes = max(5, min(minutes, 7 * 24 * 60))

        def when(value: Any) -> datetime | None:
            if isinstance(value, datetime):
                return zones.aware(value, zones.name_of(value, None, uid))
            if isinstance(value, date):
                return zones.aware(datetime.combine(value, datetime.min.time()), zones.default_tz)
            return None

        task = TaskIn(
            task_id=uid_to_event_id(uid),
            title=str(comp.get("summary") or "(no title)")[:500],
            duration_minutes=minutes,
            priority=_ICAL_PRIORITY.get(_int(comp.get("priority", 0)), 3),
            deadline=when(due),
            earliest_start=when(start),
        )
    except Exception as exc:
        code = exc.code if isinstance(exc, PermanentError) else "INVALID_TASK"
        report.skipped.append(_item(comp, code, _short(exc), uid))
        return
    report.tasks.append(task.model_dump(mode="json"))

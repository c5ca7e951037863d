"""RFC 5545 import with ``icalendar``, component by component.

A VEVENT that cannot be stored (no DTSTART that RFC 5545 lets us derive, an
RRULE dateutil cannot expand, an end before its start, ...) is reported in
``skipped`` with a reason code and the rest of the file is imported. In a file
with an iTIP METHOD (RFC 5546) CANCEL/REPLY/ADD/REFRESH/COUNTER/DECLINECOUNTER
VEVENTs are messages about stored events (``itip.py``), applied by the handler.
VTODOs become stored planner tasks (``ics_todo.py``); other components are
reported as ``UNSUPPORTED_COMPONENT``. Time zones: ``ics_zones.py``; property
values: ``ics_values.py``; export: ``ics_export.py``.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import icalendar
import pydantic
from icalendar.timezone import use_zoneinfo

from agents.scheduling import itip
from agents.scheduling.ics_export import PRODID, export_calendar
from agents.scheduling.ics_todo import TASK_DONE, read_todo
from agents.scheduling.ics_values import derived_uid, item, override_of, short, to_event
from agents.scheduling.ics_zones import ImportReport, Zones
from agents.scheduling.model import Event, Override
from agents.scheduling.validation import validate_event
from enginedge_streams.errors import LimitExceededError, PermanentError, ValidationError

__all__ = [
    "PRODID",
    "ImportReport",
    "Instance",
    "export_calendar",
    "parse_calendar",
    "read_calendar",
]


MAX_EVENTS = 5_000
_SUPPORTED = {"VEVENT", "VTODO", "VTIMEZONE"}


@dataclass(frozen=True)
class Instance:
    """A RECURRENCE-ID VEVENT whose series is not in the file (resolved against the store)."""

    uid: str
    key: str  # the recurrence key of the instance it replaces
    override: Override
    alone: Event | None  # the instance as a single event (None: it is not a valid one)
    error: tuple[str, str] = ("", "")  # (code, message) when ``alone`` is None


def parse_calendar(text: str, calendar_id: str, default_tz: str, now: datetime) -> list[Event]:
    """The events of an iCalendar text that pass validation (see ``read_calendar``); an
    instance whose series is not in the text stands alone (the first one per UID)."""
    report = read_calendar(text, calendar_id, default_tz, now)
    alone: dict[str, Event] = {}
    for inst in report.instances:
        if inst.alone is not None and not inst.override.cancelled:
            alone.setdefault(inst.uid, inst.alone)
    return report.events + list(alone.values())


def read_calendar(text: str, calendar_id: str, default_tz: str, now: datetime) -> ImportReport:
    """Events (masters with their overrides), iTIP messages, tasks, and what was skipped and why."""
    report = ImportReport()
    # icalendar caches VTIMEZONEs by TZID process-wide, first definition wins: without this
    # reset one user's "Office" zone would be used for the next file's "Office".
    use_zoneinfo()  # type: ignore[no-untyped-call]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        components = _components(text.lstrip("\ufeff"))  # a UTF-8 BOM is fine
        reader = _Reader(calendar_id, Zones(default_tz, report), now, report)
        children: list[tuple[str, Any]] = []
        for comp, method in components:
            child = reader.component(comp, method)
            if child is not None:
                children.append(child)
        for uid, comp in children:
            reader.override(uid, comp)
    for w in caught:
        if not issubclass(w.category, DeprecationWarning):
            report.warn("", "PARSER_WARNING", str(w.message), component="VCALENDAR")
    report.events = list(reader.masters.values())
    report.method = ",".join(sorted({m for _, m in components if m}))
    report.counts = {"vevents": sum(1 for c, _ in components if c.name == "VEVENT")}
    buckets = ("event", "override", "instance", "itip")
    report.counts.update({k: reader.outcomes.get(k, 0) for k in buckets})
    report.counts["skipped"] = reader.outcomes.get("skipped", 0)
    return report


def _components(text: str) -> list[tuple[Any, str]]:
    """Top-level components with their calendar's METHOD ("" without one)."""
    try:
        parsed = icalendar.Calendar.from_ical(text, multiple=True)
    except Exception as exc:  # icalendar raises ValueError and, on odd input, others
        raise ValidationError(
            f"not a valid iCalendar file: {short(exc)}", code="INVALID_ICS"
        ) from None
    components: list[tuple[Any, str]] = []
    for top in parsed:
        if top.name == "VCALENDAR":
            method = str(top.get("method") or "").strip().upper()
            components.extend((c, method) for c in top.subcomponents)
        else:
            components.append((top, ""))
    if not components:
        raise ValidationError("the iCalendar file holds no components", code="INVALID_ICS")
    if sum(1 for c, _ in components if c.name == "VEVENT") > MAX_EVENTS:
        raise LimitExceededError(f"at most {MAX_EVENTS} VEVENTs per import", code="TOO_MANY_EVENTS")
    return components


class _Reader:
    """One file's components in order; masters by UID; each VEVENT's outcome counted."""

    def __init__(self, calendar_id: str, zones: Zones, now: datetime, report: ImportReport):
        self.calendar_id = calendar_id
        self.zones = zones
        self.now = now
        self.report = report
        self.masters: dict[str, Event] = {}
        self.outcomes: Counter[str] = Counter()

    def component(self, comp: Any, method: str) -> tuple[str, Any] | None:
        """Read a top-level component; an override is returned for after the masters."""
        name = str(comp.name)
        if name not in _SUPPORTED:
            self.skip(comp, "UNSUPPORTED_COMPONENT", f"{name} is not imported")
            return None
        if name == "VTODO" and method in itip.MESSAGE_METHODS:
            uid = str(comp.get("uid") or "").strip() or derived_uid(comp)
            if method == "CANCEL":  # closes the stored task, like a CANCELLED VTODO
                self.skip(comp, TASK_DONE, "the task was cancelled (METHOD:CANCEL)", uid)
            else:
                self.skip(comp, "ITIP_UNSUPPORTED", f"{method} for a VTODO is not applied", uid)
        elif name == "VTODO":
            read_todo(comp, self.report, self.zones, calendar_id=self.calendar_id, now=self.now)
        if name != "VEVENT":
            return None
        uid = str(comp.get("uid") or "").strip()
        if not uid:
            uid = derived_uid(comp)
            self.report.warn(uid, "UID_DERIVED", "the VEVENT has no UID; one was derived from it")
        if method in itip.MESSAGE_METHODS:
            self.message(comp, method, uid)
            return None
        if comp.get("recurrence-id") is not None:
            return uid, comp
        ev = self.checked(comp, uid)
        if ev is not None and uid in self.masters:
            self.skip(comp, "DUPLICATE_UID", "another VEVENT with this UID came first", uid)
        elif ev is not None:
            self.masters[uid] = ev
            self.outcomes["event"] += 1
        return None

    def message(self, comp: Any, method: str, uid: str) -> None:
        try:
            msg = itip.read_item(
                comp, method, uid, self.zones, calendar_id=self.calendar_id, now=self.now
            )
        except Exception as exc:
            self.fail(comp, exc, uid)
            return
        self.report.itip.append(msg)
        self.outcomes["itip"] += 1

    def override(self, uid: str, comp: Any) -> None:
        master = self.masters.get(uid)
        if master is None:
            self.orphan(comp, uid)
            return
        try:
            key, ov = override_of(comp, master.timezone, self.zones)
        except Exception as exc:  # a bad RECURRENCE-ID or time in the instance
            self.skip(comp, getattr(exc, "code", "INVALID_OVERRIDE"), short(exc), uid)
            return
        if key in master.overrides:
            self.skip(comp, "DUPLICATE_UID", f"a second override for {key}", uid)
            return
        master.overrides[key] = ov
        self.outcomes["override"] += 1

    def checked(self, comp: Any, uid: str) -> Event | None:
        """The VEVENT as a valid Event, or None with the reason in ``skipped``."""
        try:
            return validate_event(to_event(comp, uid, self.calendar_id, self.zones, self.now))
        except Exception as exc:
            self.fail(comp, exc, uid)
        return None

    def fail(self, comp: Any, exc: Exception, uid: str) -> None:
        if isinstance(exc, PermanentError):
            self.skip(comp, exc.code, str(exc), uid)
        elif isinstance(exc, pydantic.ValidationError):
            self.skip(comp, "INVALID_EVENT", _pyd(exc), uid)
        else:  # a value icalendar could not decode
            self.skip(comp, "INVALID_EVENT", short(exc), uid)

    def orphan(self, comp: Any, uid: str) -> None:
        """An instance whose series is not in the file: the handler looks for it in the store."""
        alone = self.checked(comp, uid)
        error = ("", "")
        if alone is None:  # the reason goes with the instance, not (yet) in ``skipped``
            failed = self.report.skipped.pop()
            self.outcomes["skipped"] -= 1
            error = (failed["code"], failed["message"])
        try:
            key, ov = override_of(
                comp, alone.timezone if alone else self.zones.default_tz, self.zones
            )
        except Exception as exc:
            self.skip(comp, getattr(exc, "code", "INVALID_OVERRIDE"), short(exc), uid)
            return
        if alone is not None:
            alone.rrule, alone.exrule, alone.exdates, alone.rdates = None, None, [], []
        self.report.instances.append(Instance(uid, key, ov, alone, error))
        self.outcomes["instance"] += 1

    def skip(self, comp: Any, code: str, message: str, uid: str | None = None) -> None:
        self.report.skipped.append(item(comp, code, message, uid))
        if comp.name == "VEVENT":
            self.outcomes["skipped"] += 1


def _pyd(exc: pydantic.ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])

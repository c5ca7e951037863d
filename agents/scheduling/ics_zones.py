"""The time zones of one iCalendar file as IANA names, each problem reported once.

IANA TZIDs are kept as they are, Windows names go through the CLDR windowsZones
table icalendar ships (``WINDOWS_TO_OLSON``), a calendar's own VTIMEZONE (custom
names, "UTC+11") becomes the IANA zone with the same offsets over the event's
year (or a fixed ``Etc/GMT±N``). A TZID that is none of these is read in the
calendar's zone *and reported* (``UNKNOWN_TZID``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON


@dataclass
class ImportReport:
    """What one iCalendar text holds, component by component.

    Every top-level VEVENT ends in exactly one of ``counts``' buckets: ``event``
    (a master), ``override`` (merged into its master in the file), ``instance``
    (a RECURRENCE-ID instance whose series is not in the file: the handler makes
    it an override of the stored series, or imports it alone, or skips it),
    ``itip`` (an iTIP message applied by the handler) or ``skipped``.
    """

    method: str = ""
    events: list[Any] = field(default_factory=list)  # model.Event
    itip: list[Any] = field(default_factory=list)  # itip.ItipItem
    instances: list[Any] = field(default_factory=list)  # ics.Instance
    tasks: list[Any] = field(default_factory=list)  # model.Task
    skipped: list[dict[str, str]] = field(default_factory=list)  # component, uid, code, message
    warnings: list[dict[str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def warn(self, uid: str, code: str, message: str, component: str = "VEVENT") -> None:
        self.warnings.append(
            {"component": component, "uid": uid, "code": code, "message": message[:300]}
        )


class Zones:
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
            self.report.warn(
                uid,
                "VTIMEZONE_APPROXIMATED",
                f"no IANA zone has the offsets of the VTIMEZONE {tzid!r}; the event keeps its"
                f" instant, recurrences use the fixed zone {found}",
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
        self.report.warn(
            uid,
            "UNKNOWN_TZID",
            f"unknown TZID {tzid!r} (not IANA, not a Windows name, no VTIMEZONE);"
            f" its times were read in the calendar's zone {self.default_tz}",
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

"""Free-slot search: working hours in a time zone minus busy time (with buffers)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from agents.scheduling.model import Occurrence

Interval = tuple[datetime, datetime]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_HOURS: dict[str, list[tuple[str, str]]] = {d: [("09:00", "17:00")] for d in WEEKDAYS[:5]}


def parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    h, m = int(hours), int(minutes)
    if h == 24 and m == 0:
        return time(23, 59, 59, 999999)
    return time(h, m)


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """A local wall-clock time as UTC (gap times read with the offset before the gap)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def working_windows(
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    hours: Mapping[str, Sequence[tuple[str, str]]],
) -> list[Interval]:
    """Working-hour windows (UTC) intersecting ``[start, end)``, one per local day and range."""
    out: list[Interval] = []
    day = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date()
    while day <= last:
        for lo, hi in hours.get(WEEKDAYS[day.weekday()], ()):
            w_start = local_instant(day, parse_hhmm(lo), tz)
            w_end = local_instant(day, parse_hhmm(hi), tz)
            w_start, w_end = max(w_start, start), min(w_end, end)
            if w_start < w_end:
                out.append((w_start, w_end))
        day += timedelta(days=1)
    return merge(out)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def busy_intervals(occurrences: Iterable[Occurrence], buffer: timedelta) -> list[Interval]:
    return merge((o.start - buffer, o.end + buffer) for o in occurrences if o.busy)


def subtract(windows: list[Interval], busy: list[Interval]) -> list[Interval]:
    """``windows`` minus ``busy`` (both sorted and merged), in one linear sweep."""
    out: list[Interval] = []
    j = 0
    for w_start, w_end in windows:
        cursor = w_start
        while j < len(busy) and busy[j][1] <= cursor:
            j += 1
        k = j
        while k < len(busy) and busy[k][0] < w_end:
            b_start, b_end = busy[k]
            if b_start > cursor:
                out.append((cursor, b_start))
            cursor = max(cursor, b_end)
            if cursor >= w_end:
                break
            k += 1
        if cursor < w_end:
            out.append((cursor, w_end))
    return out


def free_slots(
    occurrences: Iterable[Occurrence],
    *,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    hours: Mapping[str, Sequence[tuple[str, str]]],
    buffer: timedelta,
    min_length: timedelta,
) -> list[Interval]:
    windows = working_windows(start, end, tz, hours)
    busy = busy_intervals(occurrences, buffer)
    return [(s, e) for s, e in subtract(windows, busy) if e - s >= min_length]


def naive_free_slots(
    occurrences: Sequence[Occurrence],
    windows: Sequence[Interval],
    buffer: timedelta,
    min_length: timedelta,
) -> list[Interval]:
    """The obvious reference for ``free_slots`` within the same working ``windows``: test
    every minute against every busy occurrence (the tests compare both answers)."""
    minute = timedelta(minutes=1)
    out: list[Interval] = []
    for w_start, w_end in windows:
        run: datetime | None = None
        t = w_start
        while t < w_end:
            busy = any(
                o.busy and o.start - buffer < t + minute and o.end + buffer > t for o in occurrences
            )
            if busy:
                if run is not None and t - run >= min_length:
                    out.append((run, t))
                run = None
            elif run is None:
                run = t
            t += minute
        if run is not None and w_end - run >= min_length:
            out.append((run, w_end))
    return out


def conflicts(
    proposed: Sequence[Occurrence], existing: Sequence[Occurrence], buffer: timedelta
) -> list[tuple[Occurrence, Occurrence]]:
    """Pairs (proposed, existing busy) that overlap once the buffer is added."""
    found = []
    ordered = sorted((o for o in existing if o.busy), key=lambda o: o.start)
    for p in proposed:
        for e in ordered:
            if e.start - buffer >= p.end:
                break
            if e.end + buffer > p.start:
                found.append((p, e))
    return found

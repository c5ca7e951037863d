"""Expand events (single, recurring with RRULE/EXDATE/overrides, all-day) into occurrences.

Expansion is lazy: instances are generated one at a time from the first one at
or after the range start, and generation stops past the range end or at the
occurrence limit (a ``FREQ=SECONDLY`` rule without COUNT/UNTIL over a year
fails after 20,001 instances, not after building 31.5 million). A dense simple
rule (SECONDLY/MINUTELY/HOURLY with only INTERVAL/UNTIL/WKST) starting long
before the range is fast-forwarded to it; any other rule still has to be
walked from DTSTART, which is why the worker runs expansion in its compute
pool, where the command's deadline stops it.

Recurrences are expanded in the event's own IANA zone with ``dateutil.rrule``
on an aware ``DTSTART``: the wall-clock time is kept across DST changes (a
09:00 New York meeting stays 09:00 local in summer), and a local time that
does not exist on a spring-forward day is read with the offset before the gap,
as RFC 5545 says.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from agents.scheduling.model import Event, Occurrence, zone
from enginedge_streams.errors import LimitExceededError, ValidationError

MAX_OCCURRENCES = 20_000
_UNTIL = re.compile(r"UNTIL=([0-9]{8}(?:T[0-9]{6}Z?)?)", re.IGNORECASE)


def normalise_rrule(text: str) -> str:
    rule = text.strip()
    if rule.upper().startswith("RRULE:"):
        rule = rule[6:]
    return rule


def _rule(event: Event, dtstart: datetime, source: str | None = None) -> rrule:
    """The event's RRULE (or ``source``, its EXRULE) on ``dtstart``."""
    raw = source if source is not None else event.rrule
    assert raw is not None
    text = normalise_rrule(raw)

    # An aware DTSTART needs a UTC UNTIL; a floating one a floating UNTIL (RFC 5545 3.3.10).
    def fix(m: re.Match[str]) -> str:
        raw = m.group(1)
        if raw.endswith("Z"):
            utc = datetime.strptime(raw, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        else:
            local = (
                datetime.strptime(raw, "%Y%m%dT%H%M%S")
                if "T" in raw
                else datetime.combine(datetime.strptime(raw, "%Y%m%d").date(), time(23, 59, 59))
            )
            utc = local.replace(tzinfo=dtstart.tzinfo or UTC).astimezone(UTC)
        if dtstart.tzinfo is None:
            return "UNTIL=" + utc.strftime("%Y%m%dT%H%M%S")
        return "UNTIL=" + utc.strftime("%Y%m%dT%H%M%SZ")

    text = _UNTIL.sub(fix, text)
    if "RSCALE=" in text.upper():  # dateutil knows one calendar and omits invalid dates
        raise ValidationError(
            f"RFC 7529 RSCALE/SKIP rules are not supported: {raw!r}", code="INVALID_RRULE"
        )
    try:
        parsed = rrulestr(text, dtstart=dtstart)
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"invalid RRULE {raw!r}: {exc}", code="INVALID_RRULE") from None
    if not isinstance(parsed, rrule):
        raise ValidationError("only one RRULE per event is supported", code="INVALID_RRULE")
    return parsed


def validate_rrule(rule: str, tz: str) -> None:
    probe = Event(
        event_id="x",
        calendar_id="x",
        uid="x",
        title="x",
        start=datetime(2000, 1, 1, tzinfo=UTC),
        end=datetime(2000, 1, 1, 1, tzinfo=UTC),
        timezone=tz,
        rrule=rule,
        updated_at=datetime(2000, 1, 1, tzinfo=UTC),
    )
    _rule(probe, datetime(2000, 1, 1, tzinfo=zone(tz)))


def day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def recurrence_key(value: datetime | date) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def _all_day(event: Event, tz: ZoneInfo, start: datetime, end: datetime) -> list[Occurrence]:
    assert event.start_date is not None
    assert event.end_date is not None
    length = event.end_date - event.start_date
    firsts: list[date] = [event.start_date]
    if event.rrule:
        rule = _rule(event, datetime.combine(event.start_date, time(0)))
        lo = datetime.combine((start.astimezone(tz) - length).date(), time(0))
        hi = datetime.combine(end.astimezone(tz).date(), time(0))
        firsts = [d.date() for d in _instances(rule, lo, hi, event.event_id)]
        # RFC 5545: DTSTART is always the first instance, even off the rule's pattern.
        if lo.date() <= event.start_date <= hi.date() and event.start_date not in firsts:
            firsts.insert(0, event.start_date)
    lo_day, hi_day = (start.astimezone(tz) - length).date(), end.astimezone(tz).date()
    extra = {d.astimezone(UTC).date() for d in event.rdates} - set(firsts)
    firsts = sorted([*firsts, *(d for d in extra if lo_day <= d <= hi_day)])
    excluded = {recurrence_key(d.astimezone(UTC).date()) for d in event.exdates}
    if event.exrule:
        rule = _rule(event, datetime.combine(event.start_date, time(0)), event.exrule)
        lo = datetime.combine(lo_day, time(0))
        hi = datetime.combine(hi_day, time(0))
        excluded |= {recurrence_key(d.date()) for d in _instances(rule, lo, hi, event.event_id)}
    return [
        _occ(event, recurrence_key(f), day_start(f, tz), day_start(f + length, tz))
        for f in firsts
        if recurrence_key(f) not in excluded
    ]


def _timed(event: Event, tz: ZoneInfo, start: datetime, end: datetime) -> list[Occurrence]:
    assert event.start is not None
    assert event.end is not None
    duration = event.end - event.start
    first = event.start.astimezone(UTC)
    starts = [first]
    if event.rrule:
        rule = _rule(event, _fast_forward(event, event.start.astimezone(tz), start - duration))
        found = _instances(rule, start - duration, end, event.event_id)
        starts = [s.astimezone(UTC) for s in found]
        if start - duration <= first < end and first not in starts:
            starts.insert(0, first)  # RFC 5545: DTSTART is always the first instance
    extra = {d.astimezone(UTC) for d in event.rdates} - set(starts)
    starts = sorted([*starts, *(d for d in extra if start - duration <= d < end)])
    excluded = {recurrence_key(d) for d in event.exdates}
    if event.exrule:
        rule = _rule(event, event.start.astimezone(tz), event.exrule)
        found = _instances(rule, start - duration, end, event.event_id)
        excluded |= {recurrence_key(s) for s in found}
    return [
        _occ(event, recurrence_key(s), s, s + duration)
        for s in starts
        if recurrence_key(s) not in excluded
    ]


def expand(event: Event, start: datetime, end: datetime) -> list[Occurrence]:
    """Occurrences of ``event`` overlapping ``[start, end)`` (aware datetimes), sorted."""
    tz = zone(event.timezone)
    out = (_all_day if event.all_day else _timed)(event, tz, start, end)
    out = _apply_overrides(event, out)
    # Overridden occurrences moved into the range from outside it.
    seen = {o.recurrence_id for o in out}
    for key, ov in event.overrides.items():
        if (
            key in seen
            or ov.cancelled
            or ov.start is None
            or key in {recurrence_key(d) for d in event.exdates}
        ):
            continue
        moved = _occ(event, key, ov.start, ov.end or ov.start, ov.title)
        out.append(moved)
    out = [o for o in out if o.start < end and o.end > start]
    out.sort(key=lambda o: (o.start, o.end, o.event_id))
    return out


def _instances(rule: rrule, lo: datetime, hi: datetime, event_id: str) -> list[datetime]:
    """Instances with ``lo <= t <= hi``, one at a time, stopping at the occurrence limit."""
    out: list[datetime] = []
    for instant in rule.xafter(lo, inc=True):
        if instant > hi:
            break
        out.append(instant)
        if len(out) > MAX_OCCURRENCES:
            raise LimitExceededError(
                f"the range holds more than {MAX_OCCURRENCES} occurrences of one event; "
                "query a shorter range",
                code="TOO_MANY_OCCURRENCES",
                details={"limit": MAX_OCCURRENCES, "event_id": event_id},
            )
    return out


_DENSE_SECONDS = {"SECONDLY": 1, "MINUTELY": 60, "HOURLY": 3600}
_SIMPLE_PARTS = {"FREQ", "INTERVAL", "UNTIL", "WKST"}


def _fast_forward(event: Event, dtstart: datetime, lo: datetime) -> datetime:
    """A later DTSTART on the same instance grid, just before ``lo``, for dense simple rules.

    Such a rule's instances are DTSTART + n * INTERVAL units of local wall-clock
    time (as dateutil generates them), so starting at an instance near the
    range gives the same instances in it without walking years of seconds.
    Rules with COUNT or BY* parts are left alone.
    """
    assert event.rrule is not None
    parts = dict(p.partition("=")[::2] for p in normalise_rrule(event.rrule).upper().split(";"))
    unit = _DENSE_SECONDS.get(parts.get("FREQ", ""))
    if unit is None or not set(parts) <= _SIMPLE_PARTS:
        return dtstart
    try:
        step = timedelta(seconds=unit * int(parts.get("INTERVAL", "1")))
    except ValueError:
        return dtstart  # _rule reports the invalid rule
    if step <= timedelta(0):
        return dtstart
    wall_start = dtstart.replace(tzinfo=None)
    wall_lo = lo.astimezone(dtstart.tzinfo).replace(tzinfo=None) - timedelta(days=1)  # DST slack
    steps = (wall_lo - wall_start) // step
    if steps <= 0:
        return dtstart
    return (wall_start + steps * step).replace(tzinfo=dtstart.tzinfo)


def _occ(
    event: Event, key: str, start: datetime, end: datetime, title: str | None = None
) -> Occurrence:
    return Occurrence(
        event_id=event.event_id,
        calendar_id=event.calendar_id,
        recurrence_id=key,
        start=start.astimezone(UTC),
        end=end.astimezone(UTC),
        title=title or event.title,
        all_day=event.all_day,
        busy=event.busy,
        reminders=tuple(event.reminders),
    )


def _apply_overrides(event: Event, occurrences: list[Occurrence]) -> list[Occurrence]:
    if not event.overrides:
        return occurrences
    out = []
    for occ in occurrences:
        ov = event.overrides.get(occ.recurrence_id)
        if ov is None:
            out.append(occ)
            continue
        if ov.cancelled:
            continue
        new_start = ov.start or occ.start
        new_end = ov.end or (new_start + (occ.end - occ.start))
        out.append(_occ(event, occ.recurrence_id, new_start, new_end, ov.title or occ.title))
    return out


def next_after(event: Event, after: datetime, horizon: timedelta) -> list[Occurrence]:
    return expand(event, after, after + horizon)

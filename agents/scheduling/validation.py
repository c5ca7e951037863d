"""The one check every stored event passes: create, update, ICS import and provider sync.

An event that fails here is never written, so ``export_ics``, ``event.list`` and
``free_slots`` never meet an unknown zone or an RRULE they cannot expand.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from agents.scheduling.model import Event, zone
from agents.scheduling.recurrence import expand, validate_rrule
from enginedge_streams.errors import ValidationError


def validate_event(ev: Event) -> Event:
    """``ev`` unchanged, or a ValidationError with a reason code."""
    zone(ev.timezone)  # INVALID_TIMEZONE
    if ev.all_day:
        if ev.start_date is None:
            raise ValidationError("an all-day event needs a start date", code="MISSING_DTSTART")
        if ev.end_date is None or ev.end_date <= ev.start_date:
            raise ValidationError(
                "an all-day event must end after its start date", code="END_BEFORE_START"
            )
    else:
        if ev.start is None:
            raise ValidationError("a timed event needs a start", code="MISSING_DTSTART")
        if ev.start.tzinfo is None or (ev.end is not None and ev.end.tzinfo is None):
            raise ValidationError("event times need a UTC offset", code="NAIVE_DATETIME")
        if ev.end is None or ev.end < ev.start:
            raise ValidationError("an event cannot end before it starts", code="END_BEFORE_START")
    for rule in (ev.rrule, ev.exrule):
        if rule:
            validate_rrule(rule, ev.timezone)  # INVALID_RRULE
    if ev.rrule or ev.exrule or ev.rdates:
        _trial_expansion(ev)
    return ev


def _trial_expansion(ev: Event) -> None:
    """Expand the first minutes of the series with the event's own DTSTART and zone."""
    first = ev.start if ev.start is not None else None
    if first is None and ev.start_date is not None:
        first = datetime.combine(ev.start_date, time(0), tzinfo=UTC)
    if first is None:
        return
    try:
        expand(ev, first - timedelta(minutes=1), first + timedelta(minutes=1))
    except ValidationError:
        raise
    except (ValueError, TypeError, OverflowError, LookupError) as exc:
        raise ValidationError(
            f"the recurrence ({ev.rrule!r}, EXRULE {ev.exrule!r}) cannot be expanded:"
            f" {type(exc).__name__}: {exc}",
            code="INVALID_RRULE",
        ) from None

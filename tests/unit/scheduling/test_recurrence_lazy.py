"""Recurrences are expanded lazily: a limit stops generation, dense rules skip ahead."""

from __future__ import annotations

import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr

from agents.scheduling import recurrence
from agents.scheduling.compute import FreeTimeQuery, free_slots_step
from agents.scheduling.model import Event
from agents.scheduling.recurrence import MAX_OCCURRENCES, expand
from agents.scheduling.slots import DEFAULT_HOURS
from enginedge_streams.errors import LimitExceededError

NY = ZoneInfo("America/New_York")


def _event(rule: str, start: datetime, *, event_id: str = "e") -> Event:
    return Event(
        event_id=event_id,
        calendar_id="c",
        uid=f"{event_id}@x",
        title="t",
        start=start,
        end=start + timedelta(seconds=1),
        timezone="America/New_York",
        rrule=rule,
        updated_at=start,
    )


def test_secondly_rule_over_a_year_stops_at_the_limit_without_building_millions():
    ev = _event("FREQ=SECONDLY", datetime(2026, 1, 1, tzinfo=UTC))
    query = FreeTimeQuery(
        start=datetime(2026, 1, 1, tzinfo=UTC),
        end=datetime(2027, 1, 1, tzinfo=UTC),
        tz_name="UTC",
        hours=DEFAULT_HOURS,
        buffer=timedelta(0),
        min_length=timedelta(minutes=30),
    )
    tracemalloc.start()
    t0 = time.perf_counter()
    with pytest.raises(LimitExceededError) as info:
        free_slots_step([ev.model_dump_json().encode()], query, 100)
    took = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert info.value.code == "TOO_MANY_OCCURRENCES"
    assert info.value.details == {"limit": MAX_OCCURRENCES, "event_id": "e"}
    # 20,001 instances, not 31.5 million: a few MB and well under the old 264 s.
    assert peak < 50 * 1024 * 1024, peak
    assert took < 30, took


@pytest.mark.parametrize(
    ("rule", "since"),
    [
        ("FREQ=MINUTELY;INTERVAL=7", datetime(2025, 10, 30, 3, 4, 5, tzinfo=UTC)),
        ("FREQ=HOURLY;INTERVAL=5", datetime(2025, 6, 1, 1, 17, tzinfo=UTC)),
        ("FREQ=SECONDLY;INTERVAL=97", datetime(2026, 3, 1, 0, 0, 1, tzinfo=UTC)),
        ("FREQ=MINUTELY;UNTIL=20260308T120000Z", datetime(2026, 2, 1, 8, 0, tzinfo=UTC)),
    ],
)
def test_dense_rules_skipping_ahead_give_exactly_the_full_walks_instances(rule, since, monkeypatch):
    # 2026-03-08 is New York's spring-forward day: the wall-clock grid must survive it.
    lo, hi = datetime(2026, 3, 8, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC)
    got = [o.start for o in expand(_event(rule, since), lo, hi)]
    monkeypatch.setattr(recurrence, "_fast_forward", lambda event, dtstart, lo: dtstart)
    walked = [o.start for o in expand(_event(rule, since), lo, hi)]
    assert got == walked
    assert got  # the window is not empty (else the test proves nothing)
    if "UNTIL" not in rule:  # and both agree with dateutil's own walk
        full = rrulestr(rule, dtstart=since.astimezone(NY)).between(lo, hi, inc=True)
        assert got == sorted({t.astimezone(UTC) for t in full if t.astimezone(UTC) < hi})


def test_a_minutely_rule_from_ten_years_ago_is_fast():
    ev = _event("FREQ=MINUTELY", datetime(2016, 1, 1, 9, 30, tzinfo=UTC))
    t0 = time.perf_counter()
    out = expand(ev, datetime(2026, 3, 10, tzinfo=UTC), datetime(2026, 3, 10, 1, tzinfo=UTC))
    assert len(out) == 60
    assert time.perf_counter() - t0 < 2.0  # walking 5.3 M minutes would take ~60 s

"""Scheduling: free-slot search over 3 calendars x 1 year with recurrences; recurrence expansion.

* free slots: ``calendar.free_slots``'s handler (expansion from the store + one linear sweep)
  vs a straightforward reference (per-day buckets, every working minute tested against
  that day's busy occurrences) — the same slots are asserted.
* expansion: our ``expand`` (dateutil on aware DTSTART) vs ``recurring-ical-events`` over
  the same calendars exported as ICS — the same occurrence count is asserted.
"""

from __future__ import annotations

import itertools
import random
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from agents.scheduling.calendar_handlers import busy_occurrences, handle_free_slots
from agents.scheduling.ics import export_calendar
from agents.scheduling.messages import FreeSlots
from agents.scheduling.model import Calendar, Event
from agents.scheduling.recurrence import expand
from agents.scheduling.repository import SchedulingRepository
from agents.scheduling.slots import DEFAULT_HOURS, working_windows
from bench.common import BenchContext, Row, median
from tables.kv import InMemoryKeyValueStore

TZ = "America/New_York"
START = datetime(2026, 1, 1, tzinfo=ZoneInfo(TZ))
END = datetime(2027, 1, 1, tzinfo=ZoneInfo(TZ))


def build(singles_per_cal: int) -> SchedulingRepository:
    rnd = random.Random(42)
    repo = SchedulingRepository(InMemoryKeyValueStore())
    now = datetime(2025, 12, 1, tzinfo=UTC)
    tz = ZoneInfo(TZ)
    ids = itertools.count()
    rules = [
        ("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", 9, 30, 15),
        ("FREQ=WEEKLY;BYDAY=TU", 14, 0, 60),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", 11, 0, 45),
        ("FREQ=MONTHLY;BYDAY=1MO", 15, 0, 90),
        ("FREQ=WEEKLY;BYDAY=FR;UNTIL=20260901T000000Z", 16, 0, 30),
    ]
    for c in range(3):
        cid = f"cal{c}"
        repo.save_calendar(Calendar(calendar_id=cid, name=cid, timezone=TZ, created_at=now))
        for rule, h, m, minutes in rules:
            s = datetime(2026, 1, 5, h, m + c * 5 if m + c * 5 < 60 else m, tzinfo=tz)
            n = next(ids)
            repo.save_event(
                Event(
                    event_id=f"r{n}",
                    calendar_id=cid,
                    uid=f"r{n}@b",
                    title=rule,
                    start=s.astimezone(UTC),
                    end=(s + timedelta(minutes=minutes)).astimezone(UTC),
                    timezone=TZ,
                    rrule=rule,
                    exdates=[(s + timedelta(days=7 * k)).astimezone(UTC) for k in (3, 10)],
                    updated_at=now,
                )
            )
        for _ in range(singles_per_cal):
            day = START + timedelta(days=rnd.randrange(365))
            s = day.replace(hour=rnd.randrange(8, 18), minute=rnd.choice((0, 15, 30, 45)))
            n = next(ids)
            repo.save_event(
                Event(
                    event_id=f"s{n}",
                    calendar_id=cid,
                    uid=f"s{n}@b",
                    title="single",
                    start=s.astimezone(UTC),
                    end=(s + timedelta(minutes=rnd.choice((30, 45, 60, 90)))).astimezone(UTC),
                    timezone=TZ,
                    updated_at=now,
                )
            )
    return repo


def reference_free_slots(repo, start, end, buffer, min_len):
    """Per-day buckets, each working minute tested against that day's busy occurrences."""
    occ = busy_occurrences(repo, ["cal0", "cal1", "cal2"], start - buffer, end + buffer)
    by_day = defaultdict(list)
    for o in occ:
        d = (o.start - buffer).date()
        while d <= (o.end + buffer).date():
            by_day[d].append(o)
            d += timedelta(days=1)
    minute = timedelta(minutes=1)
    out = []
    for w_start, w_end in working_windows(start, end, ZoneInfo(TZ), DEFAULT_HOURS):
        run = None
        t = w_start
        while t < w_end:
            todays = by_day.get(t.date(), ())
            busy = any(o.start - buffer < t + minute and o.end + buffer > t for o in todays)
            if busy:
                if run is not None and t - run >= min_len:
                    out.append((run, t))
                run = None
            elif run is None:
                run = t
            t += minute
        if run is not None and w_end - run >= min_len:
            out.append((run, w_end))
    return out


async def run(ctx: BenchContext) -> list[Row]:
    singles = 60 if ctx.quick else 250
    repo = build(singles)
    query = FreeSlots(
        calendar_ids=["cal0", "cal1", "cal2"],
        start=START,
        end=END,
        timezone=TZ,
        duration_minutes=30,
        buffer_minutes=10,
        max_slots=10_000,
    )
    ours_ms = []
    for _ in range(3 if ctx.quick else 7):
        t0 = time.perf_counter()
        result = await handle_free_slots(query, repo=repo)
        ours_ms.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    ref = reference_free_slots(
        repo,
        START.astimezone(UTC),
        END.astimezone(UTC),
        timedelta(minutes=10),
        timedelta(minutes=30),
    )
    ref_ms = (time.perf_counter() - t0) * 1000
    got = [
        (datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"]))
        for s in result["slots"]
    ]
    assert got == ref, "free-slot search disagrees with the reference"

    import recurring_ical_events
    from icalendar import Calendar as ICal

    cals = [repo.require_calendar(c) for c in ("cal0", "cal1", "cal2")]
    texts = [export_calendar(c, repo.events(c.calendar_id)) for c in cals]
    t0 = time.perf_counter()
    n_ours = sum(len(expand(ev, START, END)) for c in cals for ev in repo.events(c.calendar_id))
    exp_ours = (time.perf_counter() - t0) * 1000
    parsed = [ICal.from_ical(t) for t in texts]
    t0 = time.perf_counter()
    n_ref = sum(len(recurring_ical_events.of(p).between(START, END)) for p in parsed)
    exp_ref = (time.perf_counter() - t0) * 1000
    assert n_ours == n_ref, (n_ours, n_ref)
    return [
        Row(
            "free slots, 3 calendars x 1 year (recurrences, 10-min buffers)",
            median(ours_ms),
            ref_ms,
            "ms/query",
            "lower",
            f"{result['busy_occurrences']} busy occurrences, {len(got)} slots; reference: per-day minute scan",
        ),
        Row(
            "recurrence expansion, 3 calendars x 1 year",
            exp_ours,
            exp_ref,
            "ms",
            "lower",
            f"{n_ours} occurrences; reference: recurring-ical-events on the exported ICS",
        ),
    ]

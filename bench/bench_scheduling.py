"""Scheduling: free-slot search over 3 calendars x 1 year with recurrences; recurrence expansion.

* free slots: ``calendar.free_slots``'s handler (expansion from the store + one linear sweep)
  vs a straightforward reference (per-day buckets, every working minute tested against
  that day's busy occurrences) — the same slots are asserted.
* expansion: our ``expand`` (dateutil on aware DTSTART) vs ``recurring-ical-events`` over
  the same calendars exported as ICS — the same occurrence count is asserted.
* worker under load: the real scheduling worker (local defaults, MAX_CONCURRENCY 4) driven over
  Kafka, 16 commands in flight: calendars in four time zones filled with ``event.create``
  (one in five a recurring series with EXDATEs and reminders, some all-day events), then
  ``event.list`` of month windows (recurrences expanded), ``calendar.free_slots`` across all
  calendars and ``calendar.conflicts`` of recurring proposals; every result checked. Its peak
  RSS (``VmHWM``, read before it stops) vs its memory limit, commands/s in the notes.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from agents.scheduling.calendar_handlers import busy_occurrences, handle_free_slots
from agents.scheduling.ics import export_calendar
from agents.scheduling.messages import FreeSlots
from agents.scheduling.model import Calendar, Event, Occurrence
from agents.scheduling.recurrence import expand
from agents.scheduling.repository import SchedulingRepository
from agents.scheduling.slots import DEFAULT_HOURS, working_windows
from bench.common import BenchContext, Commands, Row, median
from enginedge_streams.testing.compute_pool import InProcessComputePool
from enginedge_streams.testing.key_value_store import InMemoryKeyValueStore

COMPUTE = InProcessComputePool()

TZ = "America/New_York"
START = datetime(2026, 1, 1, tzinfo=ZoneInfo(TZ))
END = datetime(2027, 1, 1, tzinfo=ZoneInfo(TZ))
IN_FLIGHT = 16
ZONES = ["America/New_York", "Europe/Berlin", "Asia/Tokyo", "UTC"]
SERIES = [  # (RRULE, local start hour, minute, minutes long)
    ("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", 9, 30, 15),
    ("FREQ=WEEKLY;BYDAY=TU,TH", 14, 0, 60),
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=WE", 11, 0, 45),
    ("FREQ=MONTHLY;BYDAY=1MO", 15, 0, 90),
    ("FREQ=MONTHLY;BYMONTHDAY=15;COUNT=12", 10, 0, 30),
    ("FREQ=WEEKLY;BYDAY=FR;COUNT=20", 16, 0, 30),
]


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


def reference_free_slots(
    repo: SchedulingRepository,
    start: datetime,
    end: datetime,
    buffer: timedelta,
    min_len: timedelta,
) -> list[tuple[datetime, datetime]]:
    """Per-day buckets, each working minute tested against that day's busy occurrences."""
    occ = busy_occurrences(repo, ["cal0", "cal1", "cal2"], start - buffer, end + buffer)
    by_day: defaultdict[date, list[Occurrence]] = defaultdict(list)
    for o in occ:
        d = (o.start - buffer).date()
        while d <= (o.end + buffer).date():
            by_day[d].append(o)
            d += timedelta(days=1)
    minute = timedelta(minutes=1)
    out: list[tuple[datetime, datetime]] = []
    for w_start, w_end in working_windows(start, end, ZoneInfo(TZ), DEFAULT_HOURS):
        run: datetime | None = None
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


def event_payload(
    rnd: random.Random, cal: str, tz: ZoneInfo, base: datetime, i: int
) -> dict[str, Any]:
    """The i-th event of a calendar: a recurring series, an all-day or a timed single event."""
    day = base + timedelta(days=rnd.randrange(180))
    if i % 5 == 0:
        rule, h, m, minutes = SERIES[(i // 5) % len(SERIES)]
        s = (base + timedelta(days=i % 7)).replace(hour=h, minute=m)
        return {
            "calendar_id": cal,
            "title": f"series {i}",
            "start": s.isoformat(),
            "end": (s + timedelta(minutes=minutes)).isoformat(),
            "rrule": rule,
            "exdates": [(s + timedelta(days=7 * k)).isoformat() for k in (2, 5)],
            "reminders": [10],
        }
    if i % 10 == 1:
        return {
            "calendar_id": cal,
            "title": f"all-day {i}",
            "start_date": day.date().isoformat(),
            "end_date": (day + timedelta(days=1 + i % 3)).date().isoformat(),
            "busy": False,
        }
    s = day.replace(hour=rnd.randrange(8, 18), minute=rnd.choice((0, 15, 30, 45)))
    return {
        "calendar_id": cal,
        "title": f"meeting {i}",
        "description": "agenda " * 20,
        "location": "Room 4",
        "start": s.astimezone(tz).isoformat(),
        "end": (s + timedelta(minutes=rnd.choice((30, 45, 60, 90)))).astimezone(tz).isoformat(),
    }


async def worker_under_load(ctx: BenchContext) -> Row:
    """Event creates and recurrence-expanding queries through the real worker over Kafka."""
    n_cals, per_cal, queries = ctx.size((2, 40, 20), (4, 150, 120), (8, 400, 400))
    t_start = time.perf_counter()
    worker = ctx.worker("scheduling")
    ok = Commands(await ctx.bus(), "scheduling", in_flight=IN_FLIGHT)
    await ok("system.ping", {})
    rnd = random.Random(7)
    run_id = uuid.uuid4().hex[:6]
    cals = [(f"bench-{run_id}-{c}", ZONES[c % len(ZONES)]) for c in range(n_cals)]
    counts = {"occurrences": 0}

    t0 = time.perf_counter()
    started = t0 - t_start
    await asyncio.gather(
        *(ok("calendar.create", {"calendar_id": c, "name": c, "timezone": z}) for c, z in cals)
    )
    # Two weeks from now, at a local midnight: all of it lies ahead (reminders do not fire).
    start_day = (datetime.now(UTC) + timedelta(days=14)).date()
    bases = {
        c: datetime.combine(start_day, datetime.min.time(), tzinfo=ZoneInfo(z)) for c, z in cals
    }
    await asyncio.gather(
        *(
            ok("event.create", event_payload(rnd, c, ZoneInfo(z), bases[c], i))
            for i in range(per_cal)
            for c, z in cals
        )
    )

    async def query(q: int) -> None:
        cal, z = cals[q % n_cals]
        if q % 6 == 5:  # free slots across every calendar, one quarter
            start = bases[cal] + timedelta(days=q % 60)
            out = await ok(
                "calendar.free_slots",
                {
                    "calendar_ids": [c for c, _ in cals],
                    "start": start.isoformat(),
                    "end": (start + timedelta(days=90)).isoformat(),
                    "timezone": z,
                    "duration_minutes": 30,
                    "buffer_minutes": 10,
                    "max_slots": 2000,
                },
            )
            counts["occurrences"] += out["busy_occurrences"]
        elif q % 6 == 4:  # a proposed weekly series against its calendar, half a year
            s = bases[cal].replace(hour=14) + timedelta(days=q % 7)
            out = await ok(
                "calendar.conflicts",
                {
                    "calendar_ids": [cal],
                    "start": s.isoformat(),
                    "end": (s + timedelta(hours=1)).isoformat(),
                    "timezone": z,
                    "rrule": "FREQ=WEEKLY;BYDAY=TU,TH",
                    "horizon_days": 180,
                },
            )
            counts["occurrences"] += out["checked_occurrences"]
        else:  # one month of occurrences
            start = bases[cal] + timedelta(days=(q * 11) % 150)
            out = await ok(
                "event.list",
                {
                    "calendar_id": cal,
                    "start": start.isoformat(),
                    "end": (start + timedelta(days=31)).isoformat(),
                },
            )
            if not out["occurrences"]:
                raise RuntimeError(f"scheduling event.list: no occurrences in {cal} from {start}")
            counts["occurrences"] += len(out["occurrences"])

    await asyncio.gather(*(query(q) for q in range(queries)))
    elapsed = time.perf_counter() - t0
    return ctx.peak_row(
        worker,
        f"scheduling worker: peak RSS under {n_cals * per_cal:,} event creates + "
        f"{queries} queries vs memory limit",
        f"{n_cals} calendars x {per_cal} events (1 in 5 recurring), then event.list (1 month), "
        f"free_slots (all calendars, 90 days), conflicts (weekly, 180 days): "
        f"{counts['occurrences']:,} occurrences expanded; {ok.count:,} commands in "
        f"{elapsed:.1f}s = {ok.count / elapsed:.0f}/s (worker ready in {started:.0f}s), "
        f"{IN_FLIGHT} in flight, MAX_CONCURRENCY 4",
    )


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
        result = await handle_free_slots(query, repo=repo, compute=COMPUTE)
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
    under_load = await worker_under_load(ctx)
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
        under_load,
    ]

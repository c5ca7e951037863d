"""icalendar 7.3.0's own test calendars (its sdist, pinned by sha256) through ICS import/export.

Fetched once with ``pip download`` into the gitignored ``var/corpora/`` and read
from there; never committed. ``run_file`` imports one calendar through the
handlers, exports it, re-imports the export into a fresh calendar and compares
the VEVENT count and a year of occurrences.

What a file's outcome means (docs/workers/scheduling.md, "What imported means"):
- accounted: ``calendar.import_ics`` COMPLETED and every top-level VEVENT (counted
  here with icalendar, independently of the worker) is in exactly one of the
  result's buckets: event, override, instance (of a series not in the file), iTIP
  message, or skipped with a reason code.
- imported: accounted, and at least one VEVENT was valid: stored as an event or
  an override, or an iTIP message (applied, or reported because the event it
  names is not stored).
- stored (the stricter figure): imported, and at least one event is in the
  calendar afterwards.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar

from tests.support.corpora import CORPORA, unpacked_sdist

CORPUS_DIR = CORPORA / "icalendar-7.3.0"
SDIST = "icalendar-7.3.0.tar.gz"
SHA256 = "7bd001c8e648205e1bde5c6a5b77096598e8d0893dcf57755c6c597635620132"


def fetch() -> Path:
    """The unpacked sdist (downloaded and checksum-verified on first use)."""
    return unpacked_sdist("icalendar==7.3.0", SDIST, SHA256, CORPUS_DIR)


def calendars_with_events(root: Path) -> list[Path]:
    """The .ics files icalendar itself parses with at least one VEVENT (the target's base)."""
    out = []
    for path in sorted(root.rglob("*.ics")):
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                cal = icalendar.Calendar.from_ical(text)
            except Exception:
                continue
        if any(True for _ in cal.walk("VEVENT")):
            out.append(path)
    return out


def top_level_vevents(text: str) -> int:
    """VEVENTs directly inside the file's VCALENDARs (a VEVENT inside an X-component is
    part of that component, which the worker reports as UNSUPPORTED_COMPONENT)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cals = icalendar.Calendar.from_ical(text.lstrip("\ufeff"), multiple=True)
    return sum(
        1
        for cal in cals
        for c in (cal.subcomponents if cal.name == "VCALENDAR" else [cal])
        if c.name == "VEVENT"
    )


@dataclass
class Tally:
    files: int = 0
    accounted: int = 0
    imported: int = 0
    stored: int = 0
    round_tripped: int = 0
    failed: Counter[str] = field(default_factory=Counter)  # whole-file failures by code
    skipped: Counter[str] = field(default_factory=Counter)  # per-item reasons
    warnings: Counter[str] = field(default_factory=Counter)
    not_round_tripped: list[str] = field(default_factory=list)
    not_imported: list[str] = field(default_factory=list)
    internal: list[str] = field(default_factory=list)


def occurrence_keys(listing: dict[str, Any]) -> list[tuple[str, str, str]]:
    return sorted((o["recurrence_id"], o["start"], o["end"]) for o in listing["occurrences"])


YEAR_FROM = datetime(2000, 1, 1, tzinfo=UTC)
"""Occurrences are compared over the year after each calendar's first event."""


def window_of(events: list[dict[str, Any]]) -> tuple[datetime, datetime]:
    starts = []
    for ev in events:
        if ev.get("start"):
            starts.append(datetime.fromisoformat(ev["start"]))
        elif ev.get("start_date"):
            starts.append(datetime.fromisoformat(ev["start_date"] + "T00:00:00+00:00"))
    first = min(starts) if starts else YEAR_FROM
    return first - timedelta(days=1), first + timedelta(days=366)


@dataclass
class Outcome:
    imported: bool
    round_tripped: bool
    failed_code: str | None
    skipped: list[str]
    warnings: list[str]
    detail: str = ""
    accounted: bool = False
    stored: bool = False


async def run_file(path: Path, call: Any, n: int, prefix: str = "corpus") -> Outcome:
    """One calendar through ``call(command_type, payload) -> (status, result|error)``."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    a, b = f"{prefix}-{n}-a", f"{prefix}-{n}-b"
    for cid in (a, b):
        status, out = await call(
            "calendar.create", {"calendar_id": cid, "name": cid, "timezone": "Europe/Berlin"}
        )
        assert status == "ok", out
    status, first = await call("calendar.import_ics", {"calendar_id": a, "ics": text})
    if status != "ok":
        return Outcome(False, False, first.get("code"), [], [], first.get("message", ""))
    skipped = [s["code"] for s in first["skipped"]]
    warns = [w["code"] for w in first["warnings"]]
    counts = first["counts"]
    buckets = sum(counts[k] for k in ("event", "override", "instance", "itip", "skipped"))
    accounted = top_level_vevents(text) == counts["vevents"] == buckets
    ids = first["imported"]
    applied = counts["event"] + counts["override"] + counts["itip"]
    valid = applied + len(ids) + len(first["updated"]) > 0  # instances: stored alone or merged
    if not (accounted and valid and ids):
        why = (
            "not accounted" if not accounted else "no valid VEVENT" if not valid else "none stored"
        )
        return Outcome(accounted and valid, False, None, skipped, warns, why, accounted)
    status, exported = await call("calendar.export_ics", {"calendar_id": a})
    if status != "ok":
        return Outcome(True, False, None, skipped, warns, f"export: {exported}", True, True)
    status, second = await call("calendar.import_ics", {"calendar_id": b, "ics": exported["ics"]})
    if status != "ok":
        return Outcome(True, False, None, skipped, warns, f"re-import: {second}", True, True)
    same_count = len(second["imported"]) == len(ids) == exported["events"]
    events = []
    for eid in ids:
        status, got = await call("event.get", {"calendar_id": a, "event_id": eid})
        events.append(got["event"])
    lo, hi = window_of(events)
    listings = []
    for cid in (a, b):
        status, listing = await call(
            "event.list",
            {"calendar_id": cid, "start": lo.isoformat(), "end": hi.isoformat(), "limit": 10_000},
        )
        if status != "ok":
            return Outcome(
                True, False, None, skipped, warns, f"event.list {cid}: {listing}", True, True
            )
        listings.append(occurrence_keys(listing))
    same_occ = listings[0] == listings[1]
    detail = "" if same_count and same_occ else f"count={same_count} occurrences={same_occ}"
    return Outcome(True, same_count and same_occ, None, skipped, warns, detail, True, True)


def tally(outcomes: dict[str, Outcome]) -> Tally:
    t = Tally(files=len(outcomes))
    for name, o in outcomes.items():
        t.accounted += o.accounted
        t.imported += o.imported
        t.stored += o.stored
        t.round_tripped += o.round_tripped
        if not o.imported:
            t.failed[o.failed_code or (o.skipped[0] if o.skipped else "NONE")] += 1
            t.not_imported.append(f"{name}: {o.failed_code or ','.join(sorted(set(o.skipped)))}")
        if o.failed_code == "INTERNAL_ERROR":
            t.internal.append(f"{name}: {o.detail}")
        if o.stored and not o.round_tripped:
            t.not_round_tripped.append(f"{name}: {o.detail}")
        t.skipped.update(o.skipped)
        t.warnings.update(o.warnings)
    return t

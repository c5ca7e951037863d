"""Place tasks and habit sessions into free time: priority first, then deadline.

Greedy and explainable: items are taken by (priority high->low, deadline
early->late); each goes into the earliest free time between its earliest
start and its deadline. A splittable item may be cut into chunks no shorter
than its minimum chunk; an item that does not fit is reported with the reason
(no free time before the deadline, or no contiguous block long enough).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from agents.scheduling.slots import Interval


@dataclass(frozen=True)
class PlanItem:
    item_id: str
    kind: str  # task | habit
    title: str
    duration: timedelta
    priority: int
    deadline: datetime | None
    earliest: datetime | None
    splittable: bool
    min_chunk: timedelta


@dataclass(frozen=True)
class Placed:
    item: PlanItem
    start: datetime
    end: datetime
    chunk: int
    chunks: int


@dataclass(frozen=True)
class Unplaced:
    item: PlanItem
    reason: str
    free_minutes_before_deadline: int
    largest_block_minutes: int


def _minutes(d: timedelta) -> int:
    return int(d.total_seconds() // 60)


def plan(
    items: list[PlanItem], free: list[Interval], *, buffer: timedelta
) -> tuple[list[Placed], list[Unplaced]]:
    slots = list(free)
    placed: list[Placed] = []
    unplaced: list[Unplaced] = []
    inf = float("inf")
    order = sorted(
        items,
        key=lambda i: (
            -i.priority,
            i.deadline.timestamp() if i.deadline else inf,
            i.earliest.timestamp() if i.earliest else -inf,
            i.item_id,
        ),
    )
    for item in order:
        window = [(max(s, item.earliest or s), min(e, item.deadline or e)) for s, e in slots]
        window = [(s, e) for s, e in window if s < e]
        total = sum((e - s for s, e in window), timedelta())
        largest = max((e - s for s, e in window), default=timedelta())
        chunks: list[Interval] = []
        if not item.splittable or item.duration <= item.min_chunk:
            block = next(
                ((s, s + item.duration) for s, e in window if e - s >= item.duration), None
            )
            if block is not None:
                chunks = [block]
        elif total >= item.duration:
            need = item.duration
            for s, e in window:
                length = e - s
                if length < item.min_chunk:
                    continue
                take = min(length, need)
                rest = need - take
                if timedelta() < rest < item.min_chunk:  # leave a remainder that can still fit
                    take = max(item.min_chunk, take - (item.min_chunk - rest))
                    if take > length:
                        continue
                chunks.append((s, s + take))
                need -= take
                if need <= timedelta():
                    break
            if need > timedelta():
                chunks = []
        if not chunks:
            unplaced.append(
                Unplaced(item, _reason(item, total, largest), _minutes(total), _minutes(largest))
            )
            continue
        for n, (s, e) in enumerate(chunks, 1):
            placed.append(Placed(item, s, e, n, len(chunks)))
            slots = _take(slots, s - buffer, e + buffer)
    placed.sort(key=lambda p: p.start)
    return placed, unplaced


def _reason(item: PlanItem, total: timedelta, largest: timedelta) -> str:
    need = _minutes(item.duration)
    where = f"before its deadline {item.deadline.isoformat()}" if item.deadline else "in the range"
    if total < item.duration:
        return f"needs {need} min but only {_minutes(total)} min of free time remain {where}"
    if not item.splittable:
        return (
            f"needs one contiguous block of {need} min {where}; the largest free block is "
            f"{_minutes(largest)} min (mark it splittable to allow chunks)"
        )
    return (
        f"needs {need} min in chunks of at least {_minutes(item.min_chunk)} min {where}; "
        "the free blocks are too fragmented"
    )


def _take(slots: list[Interval], start: datetime, end: datetime) -> list[Interval]:
    out: list[Interval] = []
    for s, e in slots:
        if e <= start or s >= end:
            out.append((s, e))
            continue
        if s < start:
            out.append((s, start))
        if e > end:
            out.append((end, e))
    return out

"""The worker registry: live instances from their heartbeats on `worker.status` (pure Python).

An instance is *live* while its last heartbeat (``sent_at``) is younger than
``missing_after`` of its own heartbeat intervals (3 by default) and it has not
announced ``stopping``; then it is *missing* (or *stopped*). Instances gone
for ``forget_after_s`` are dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from enginedge_streams.heartbeat import Heartbeat

InstanceState = Literal["live", "missing", "stopped"]


class InstanceRecord(BaseModel):
    beat: Heartbeat
    first_seen: datetime
    received_at: datetime

    @property
    def last_seen(self) -> datetime:
        return self.beat.sent_at


class WorkerRegistry:
    def __init__(self, *, missing_after_intervals: float = 3.0, forget_after_s: float = 86_400.0):
        self.missing_after = missing_after_intervals
        self.forget_after_s = forget_after_s
        self.instances: dict[str, InstanceRecord] = {}

    def load(self, records: list[InstanceRecord]) -> None:
        self.instances = {r.beat.instance_id: r for r in records}

    def observe(self, beat: Heartbeat, now: datetime) -> InstanceRecord | None:
        """Record a heartbeat; None when it is older than what we have (or too old to keep)."""
        if (now - beat.sent_at).total_seconds() > self.forget_after_s:
            return None
        known = self.instances.get(beat.instance_id)
        if known is not None and known.beat.sent_at >= beat.sent_at:
            return None
        record = InstanceRecord(
            beat=beat,
            first_seen=known.first_seen if known is not None else beat.sent_at,
            received_at=now,
        )
        self.instances[beat.instance_id] = record
        return record

    def state(self, record: InstanceRecord, now: datetime) -> InstanceState:
        if record.beat.status == "stopping":
            return "stopped"
        age = (now - record.beat.sent_at).total_seconds()
        return "live" if age <= self.missing_after * record.beat.interval_seconds else "missing"

    def live_types(self, now: datetime) -> set[str]:
        return {r.beat.worker_type for r in self.instances.values() if self.state(r, now) == "live"}

    def why_not_live(self, worker_type: str, now: datetime) -> str | None:
        """None when ``worker_type`` has a live instance; else the reason, for a waiting step."""
        records = [r for r in self.instances.values() if r.beat.worker_type == worker_type]
        if any(self.state(r, now) == "live" for r in records):
            return None
        if not records:
            return f"no live instance of worker type {worker_type!r} (none has sent a heartbeat)"
        last = max(records, key=lambda r: r.beat.sent_at)
        what = "stopped" if self.state(last, now) == "stopped" else "missing"
        at = last.beat.sent_at.isoformat(timespec="seconds")
        return (
            f"no live instance of worker type {worker_type!r} (last heartbeat at {at} "
            f"from {last.beat.instance_id}: {what})"
        )

    def expired(self, now: datetime) -> list[str]:
        return [
            iid
            for iid, r in self.instances.items()
            if (now - r.beat.sent_at).total_seconds() > self.forget_after_s
        ]

    def forget(self, instance_id: str) -> None:
        self.instances.pop(instance_id, None)

    def view(self, now: datetime, *, include_gone: bool = True) -> list[dict[str, Any]]:
        out = []
        for r in sorted(self.instances.values(), key=lambda r: (r.beat.worker_type, r.first_seen)):
            state = self.state(r, now)
            if state != "live" and not include_gone:
                continue
            b = r.beat
            out.append(
                {
                    "worker_type": b.worker_type,
                    "instance_id": b.instance_id,
                    "state": state,
                    "status": b.status,
                    "version": b.version,
                    "host": b.host,
                    "pid": b.pid,
                    "port": b.port,
                    "in_flight": b.in_flight,
                    "processed": b.processed,
                    "assigned_partitions": b.assigned_partitions,
                    "interval_seconds": b.interval_seconds,
                    "last_heartbeat": b.sent_at.isoformat(),
                    "seconds_since_heartbeat": round((now - b.sent_at).total_seconds(), 1),
                    "missing_after_seconds": self.missing_after * b.interval_seconds,
                    "first_seen": r.first_seen.isoformat(),
                }
            )
        return out

"""The reminder scan runs in the compute pool; one event that overruns cannot silence the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agents.scheduling.calendar_handlers import handle_create_calendar, handle_create_event
from agents.scheduling.messages import CreateCalendar, CreateEvent
from agents.scheduling.reminders import ReminderScheduler
from enginedge_streams.compute import step_limit, step_name
from enginedge_streams.testing.compute_pool import InProcessComputePool
from enginedge_streams.testing.messaging import RecordingCommandSender as RecordingSender
from tests.unit.scheduling.conftest import make_ctx


class OverrunningPool(InProcessComputePool):
    """Like the process pool when a step holding the hostile event hits its limit."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    async def run(self, fn, *args, timeout_s=None, limit_code="DEADLINE_EXCEEDED"):
        blobs = args[0]
        self.batches.append(len(blobs))
        if any(b'"event_id":"storm"' in b for b in blobs):
            raise step_limit(timeout_s).error(step_name(fn), limit_code)
        return await super().run(fn, *args, timeout_s=timeout_s, limit_code=limit_code)


async def _event(repo, clock, event_id: str, rrule: str) -> None:
    await handle_create_event(
        CreateEvent(
            calendar_id="c",
            event_id=event_id,
            title=event_id,
            start=datetime(2026, 3, 2, 14, tzinfo=UTC),
            end=datetime(2026, 3, 2, 15, tzinfo=UTC),
            rrule=rrule,
            reminders=[30],
        ),
        repo=repo,
        clock=clock,
        ctx=make_ctx(),
    )


async def test_an_overrunning_event_is_skipped_and_the_others_fire(repo, clock):
    await handle_create_calendar(
        CreateCalendar(calendar_id="c", name="c", timezone="UTC"),
        repo=repo,
        clock=clock,
        ctx=make_ctx(),
    )
    await _event(repo, clock, "daily", "FREQ=DAILY")
    await _event(repo, clock, "storm", "FREQ=SECONDLY;BYSECOND=0")
    pool = OverrunningPool()
    sender = RecordingSender()
    sched = ReminderScheduler(
        repo, sender, clock, catchup=timedelta(hours=1), compute=pool, step_timeout_s=5.0
    )
    clock.at = datetime(2026, 3, 2, 13, 30, tzinfo=UTC)
    assert await sched.tick() == 1  # the daily event's reminder, despite the storm
    assert [p["event_id"] for _, _, p in sender.commands] == ["daily"]
    assert pool.batches == [2, 1, 1]  # all at once, then event by event
    assert len(sched.hostile) == 1
    clock.at = datetime(2026, 3, 3, 13, 30, tzinfo=UTC)  # next day: a new window
    assert await sched.tick() == 1
    assert pool.batches[3:] == [1]  # the storm is no longer scanned
    assert all(name.endswith("reminders_step") for name, _ in pool.calls)

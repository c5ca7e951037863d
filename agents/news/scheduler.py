"""The polling timer's side: find due feeds and ask the worker to poll them.

Faust tables can only be written while a command is processed, so the timer
never writes: each tick it sends a ``feed.poll`` command for every feed whose
``next_poll_at`` has come, to the worker's own requests topic. The command id
is derived from the feed and its scheduled time, so a re-sent poll for the
same slot runs once; the handler writes the outcome and the next poll time
(interval on success, exponential backoff on errors) into the table.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from agents.news.repository import NewsRepository
from enginedge_streams.ports.clock import Clock
from enginedge_streams.ports.command_sender import CommandSender
from enginedge_streams.records import Command

#: polls and purges are commands to this worker itself
WORKER_TYPE = "news"


def poll_command_id(feed_id: str, scheduled_for: datetime, attempt: int) -> str:
    raw = f"{feed_id}/{scheduled_for.isoformat()}/{attempt}"
    return "feed-poll-" + hashlib.sha256(raw.encode()).hexdigest()[:32]


class FeedScheduler:
    def __init__(
        self,
        repo: NewsRepository,
        sender: CommandSender,
        clock: Clock,
        *,
        resend_after: timedelta = timedelta(seconds=120),
        purge_every: timedelta | None = None,
    ) -> None:
        self.purge_every = purge_every  # None: no retention, no purge commands
        self.last_purge: datetime | None = None
        self.repo = repo
        self.sender = sender
        self.clock = clock
        self.resend_after = resend_after
        self.sent: dict[str, tuple[datetime, datetime, int]] = {}  # feed -> (slot, sent at, n)

    async def tick(self) -> int:
        """Send ``feed.poll`` for every due feed; return how many were sent."""
        now = self.clock.now()
        count = 0
        feeds = self.repo.feeds()
        for feed in sorted(feeds, key=lambda f: f.state.next_poll_at):
            slot = feed.state.next_poll_at
            if slot > now:
                break
            previous = self.sent.get(feed.feed_id)
            attempt = 0
            if previous is not None and previous[0] == slot:
                if now - previous[1] < self.resend_after:
                    continue  # sent for this slot; still running or queued
                attempt = previous[2] + 1  # lost or failed without recording: a fresh id
            await self.sender.send(
                WORKER_TYPE,
                Command(
                    command_id=poll_command_id(feed.feed_id, slot, attempt),
                    command_type="feed.poll",
                    payload={"feed_id": feed.feed_id, "scheduled_for": slot.isoformat()},
                ),
            )
            self.sent[feed.feed_id] = (slot, now, attempt)
            count += 1
        if self.purge_every is not None and (
            self.last_purge is None or now - self.last_purge >= self.purge_every
        ):
            period = int(now.timestamp() // self.purge_every.total_seconds())
            purge = Command(command_id=f"news-purge-{period}", command_type="news.purge")
            await self.sender.send(WORKER_TYPE, purge)
            self.last_purge = now
            count += 1
        live = {f.feed_id for f in feeds}
        for gone in [k for k in self.sent if k not in live]:
            del self.sent[gone]
        return count

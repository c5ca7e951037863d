"""The orchestrator's ``DriveSender`` port over the platform's ``EventPublisher``."""

from __future__ import annotations

from enginedge_streams.ports.event_publisher import EventPublisher


class EventDriveSender:
    """Internal events (tick, resume, purge) on the drive topic, keyed by request id, so each
    lands in the partition that holds the request's row."""

    def __init__(self, events: EventPublisher) -> None:
        self.events = events

    async def send(self, request_id: str, kind: str) -> None:
        await self.events.publish(request_id, {"request_id": request_id, "kind": kind})

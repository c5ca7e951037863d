"""Carries out the engine's effects: step commands to workers, events to orchestrator.events."""

from __future__ import annotations

import logging

from agents.orchestrator.engine import Dispatch, Effect, Publish
from enginedge_streams.ports.command_sender import CommandSender
from enginedge_streams.ports.event_publisher import EventPublisher

log = logging.getLogger("enginedge.orchestrator")


class EffectRunner:
    def __init__(self, sender: CommandSender, events: EventPublisher) -> None:
        self.sender = sender
        self.events = events
        self.sent = 0

    async def run(self, effects: list[Effect]) -> None:
        """Send in order. The request record is already stored, so a crash part-way is
        repaired on restart: unfinished requests re-send their in-flight commands."""
        for effect in effects:
            if isinstance(effect, Dispatch):
                await self.sender.send(effect.worker_type, effect.command)
                self.sent += 1
            elif isinstance(effect, Publish):
                await self.events.publish(str(effect.event["request_id"]), effect.event)

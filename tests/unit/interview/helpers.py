from __future__ import annotations

from datetime import timedelta

from enginedge_streams.handlers import CommandContext
from enginedge_streams.records import Command, utcnow


def ctx(command_id: str) -> CommandContext:
    command = Command(command_id=command_id, command_type="test.command", payload={})
    return CommandContext(
        command=command, worker_type="test", attempt=1, deadline=utcnow() + timedelta(seconds=120)
    )

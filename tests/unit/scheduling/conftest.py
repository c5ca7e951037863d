from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from agents.scheduling.repository import SchedulingRepository
from enginedge_streams.handlers import CommandContext
from enginedge_streams.records import Command
from enginedge_streams.testing.clock import FixedClock
from enginedge_streams.testing.key_value_store import InMemoryKeyValueStore
from enginedge_streams.testing.messaging import RecordingEventPublisher

_ids = itertools.count()


def make_ctx(command_type: str = "x.y", command_id: str | None = None) -> CommandContext:
    cmd = Command(command_type=command_type, command_id=command_id or f"cmd-{next(_ids)}")
    return CommandContext(
        command=cmd, worker_type="scheduling", attempt=1, deadline=datetime(2100, 1, 1, tzinfo=UTC)
    )


@pytest.fixture
def repo() -> SchedulingRepository:
    return SchedulingRepository(InMemoryKeyValueStore())


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))


@pytest.fixture
def publisher() -> RecordingEventPublisher:
    return RecordingEventPublisher()

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from agents.scheduling.fakes import FixedClock, InMemoryKeyValueStore, RecordingPublisher
from agents.scheduling.repository import SchedulingRepository
from enginedge_streams.handlers import CommandContext
from enginedge_streams.records import Command

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
def publisher() -> RecordingPublisher:
    return RecordingPublisher()

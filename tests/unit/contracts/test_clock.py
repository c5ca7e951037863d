"""The ``Clock`` port's contract, held by the system clock and the fake."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from enginedge_streams.adapters.system_clock import SystemClock
from enginedge_streams.ports.clock import Clock
from enginedge_streams.testing.clock import FixedClock


@pytest.fixture(params=["system", "fixed"])
def clock(request) -> Clock:
    return SystemClock() if request.param == "system" else FixedClock()


def test_now_is_aware_utc_and_timestamp_is_the_same_instant(clock):
    now = clock.now()
    assert now.tzinfo is not None and now.utcoffset().total_seconds() == 0
    assert abs(clock.timestamp() - now.timestamp()) < 1.0
    assert abs(clock.timestamp() - time.time()) < 5.0  # both start at the current time


def test_time_does_not_go_backwards(clock):
    first = clock.now()
    assert clock.now() >= first and clock.timestamp() >= first.timestamp()


def test_the_fixed_clock_moves_only_when_told():
    clock = FixedClock(1_800_000_000.0)
    assert clock.timestamp() == 1_800_000_000.0 and clock.now() == clock.now()
    clock.advance(30)
    clock.advance(minutes=1)
    assert clock.timestamp() == 1_800_000_090.0
    assert FixedClock(datetime(2026, 3, 2, 12, tzinfo=UTC)).now().hour == 12

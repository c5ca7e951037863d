"""Deterministic fakes of the platform's ports, shipped for tests of any worker."""

from enginedge_streams.testing.fakes import (
    InMemoryCache,
    InMemoryRateLimiter,
    InMemoryStatusStore,
    RecordingSink,
)

__all__ = ["InMemoryCache", "InMemoryRateLimiter", "InMemoryStatusStore", "RecordingSink"]

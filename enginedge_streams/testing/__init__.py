"""Deterministic fakes of the platform's ports, shipped for tests of any worker."""

from enginedge_streams.testing.fakes import (
    InMemoryCache,
    InMemoryRateLimiter,
    InMemoryStatusStore,
    RecordingSink,
)
from enginedge_streams.testing.processor import in_memory_processor

__all__ = [
    "InMemoryCache",
    "InMemoryRateLimiter",
    "InMemoryStatusStore",
    "RecordingSink",
    "in_memory_processor",
]

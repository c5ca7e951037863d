"""A rate limiter shared by every replica (Redis in production)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    remaining: int
    retry_after: float  # seconds until a unit is available again (0 when allowed)


class RateLimiter(Protocol):
    async def acquire(
        self, key: str, *, limit: int, window_seconds: float, cost: int = 1
    ) -> RateDecision:
        """Take ``cost`` units from ``key``'s budget of ``limit`` per ``window_seconds``."""
        ...

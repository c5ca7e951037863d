"""A stand-in for ``RedisClient`` (the container's shared connection) where no Redis runs."""

from __future__ import annotations


class FakeRedisClient:
    """``ping`` answers ``up``; ``start``/``stop`` are recorded. Only for wiring tests whose
    workers take the client for readiness: adapters that store in Redis are tested on the
    real local Redis (tests/integration)."""

    def __init__(self, *, up: bool = True) -> None:
        self.up = up
        self.started = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.started = False

    async def ping(self) -> bool:
        return self.up

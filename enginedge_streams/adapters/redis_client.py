"""One lazily connected Redis connection pool per process."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from enginedge_streams.errors import DependencyUnavailableError


class RedisClient:
    def __init__(self, url: str) -> None:
        self.url = url
        self._redis: aioredis.Redis | None = None

    @property
    def redis(self) -> aioredis.Redis:
        if self._redis is None:
            self._redis = aioredis.Redis.from_url(
                self.url,
                socket_connect_timeout=2.0,
                socket_timeout=5.0,
                health_check_interval=15,
            )
        return self._redis

    async def start(self) -> None:
        self.redis  # noqa: B018 - build the pool; connections open on first use

    async def stop(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except (RedisError, OSError):
            return False

    async def run(self, op: str, *args: Any) -> Any:
        """Run one command; connection trouble becomes a retryable error."""
        try:
            return await self.redis.execute_command(op, *args)  # type: ignore[no-untyped-call]
        except (RedisError, OSError) as exc:
            raise DependencyUnavailableError(f"redis {op} failed: {exc}") from exc

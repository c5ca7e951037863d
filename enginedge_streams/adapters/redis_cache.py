"""The ``Cache`` port on Redis (shared by every replica)."""

from __future__ import annotations

from enginedge_streams.adapters.redis_client import RedisClient


class RedisCache:
    def __init__(self, client: RedisClient, *, namespace: str) -> None:
        self.client = client
        self.namespace = namespace

    def _key(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    async def start(self) -> None:
        await self.client.start()

    async def stop(self) -> None:
        return None  # the shared client is stopped by its owner

    async def get(self, key: str) -> bytes | None:
        value = await self.client.run("GET", self._key(key))
        return None if value is None else bytes(value)

    async def set(self, key: str, value: bytes, *, ttl_seconds: float | None = None) -> None:
        if ttl_seconds is not None:
            await self.client.run(
                "SET", self._key(key), value, "PX", max(1, int(ttl_seconds * 1000))
            )
        else:
            await self.client.run("SET", self._key(key), value)

    async def delete(self, key: str) -> None:
        await self.client.run("DEL", self._key(key))

    async def ping(self) -> bool:
        return await self.client.ping()

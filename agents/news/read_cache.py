"""Cached read results in Redis (the platform's ``Cache`` port).

The key holds the command type, a freshness marker (this process' index
generation: any stored article changes it) and a digest of the *whole*
validated payload — every filter, page and page size, with defaults filled in
— so two different queries never share an entry. A cache outage only costs
speed: reads are computed instead.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from pydantic import BaseModel

from enginedge_streams.ports.cache import Cache

log = logging.getLogger("enginedge.news.cache")


def cache_key(command_type: str, payload: BaseModel, freshness: str) -> str:
    canonical = orjson.dumps(payload.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return f"{command_type}:{freshness}:{hashlib.sha256(canonical).hexdigest()}"


class ReadCache:
    def __init__(self, cache: Cache | None, *, ttl_seconds: float) -> None:
        self.cache = cache if ttl_seconds > 0 else None
        self.ttl = ttl_seconds
        self.hits = 0
        self.misses = 0

    async def get_or_compute(
        self,
        command_type: str,
        payload: BaseModel,
        freshness: str,
        compute: Callable[[], Awaitable[dict[str, Any]]],
    ) -> dict[str, Any]:
        if self.cache is None:
            return await compute()
        key = cache_key(command_type, payload, freshness)
        try:
            raw = await self.cache.get(key)
        except Exception as exc:
            log.warning("read cache unavailable: %s", exc)
            raw = None
        if raw is not None:
            self.hits += 1
            value: dict[str, Any] = orjson.loads(raw)
            value["cached"] = True
            return value
        self.misses += 1
        value = await compute()
        try:
            await self.cache.set(key, orjson.dumps(value), ttl_seconds=self.ttl)
        except Exception as exc:
            log.warning("read cache unavailable: %s", exc)
        return {**value, "cached": False}

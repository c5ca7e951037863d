"""The ``ExecutionBudget`` port on Redis: an ordered set of execution ids per budget key.

Each execution id gets its position once (atomically, in Lua); asking again for
the same id returns the same position, so a redelivered execution is judged
exactly as the first time.
"""

from __future__ import annotations

from typing import Any

# KEYS[1] = sorted set key; ARGV = execution id, ttl ms. Returns the 1-based position.
_SCRIPT = """
local rank = redis.call('ZRANK', KEYS[1], ARGV[1])
if not rank then
  rank = redis.call('ZCARD', KEYS[1])
  redis.call('ZADD', KEYS[1], rank, ARGV[1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return rank + 1
"""


class RedisExecutionBudget:
    def __init__(self, client: Any, *, prefix: str, ttl_seconds: float = 3600.0) -> None:
        self.client = client  # enginedge_streams.adapters.redis_client.RedisClient
        self.prefix = prefix
        self.ttl_ms = int(ttl_seconds * 1000)

    async def take(self, budget_key: str, execution_id: str, *, limit: int) -> tuple[bool, int]:
        key = f"{self.prefix}{budget_key}"
        position = int(await self.client.run("EVAL", _SCRIPT, 1, key, execution_id, self.ttl_ms))
        return position <= limit, position

"""The ``RateLimiter`` port on Redis: an atomic sliding-window log (Lua).

The window is measured with Redis' own clock, so replicas on hosts with
skewed clocks share one budget.
"""

from __future__ import annotations

from enginedge_streams.adapters.redis_client import RedisClient
from enginedge_streams.ports.rate_limiter import RateDecision

# KEYS[1] = log key; ARGV = limit, window_ms, cost
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = redis.call('ZCARD', KEYS[1])
if used + cost <= limit then
  local seq = redis.call('INCRBY', KEYS[1] .. ':seq', cost)
  for i = 1, cost do
    redis.call('ZADD', KEYS[1], now, tostring(seq - cost + i))
  end
  redis.call('PEXPIRE', KEYS[1], window)
  redis.call('PEXPIRE', KEYS[1] .. ':seq', window)
  return {1, limit - used - cost, 0}
end
local retry = 0
if cost <= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], used + cost - limit - 1, used + cost - limit - 1,
    'WITHSCORES')
  if oldest[2] then retry = tonumber(oldest[2]) + window - now end
else
  retry = window
end
return {0, limit - used, retry}
"""


class RedisRateLimiter:
    def __init__(self, client: RedisClient, *, prefix: str = "rl:") -> None:
        self.client = client
        self.prefix = prefix

    async def acquire(
        self, key: str, *, limit: int, window_seconds: float, cost: int = 1
    ) -> RateDecision:
        args = (1, f"{self.prefix}{key}", limit, max(1, int(window_seconds * 1000)), cost)
        allowed, remaining, retry_ms = await self.client.run("EVAL", _SCRIPT, *args)
        return RateDecision(bool(allowed), max(0, int(remaining)), max(0.0, retry_ms / 1000.0))

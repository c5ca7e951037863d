"""The assistant's request/token limits on the real Redis, shared by two gateways (two replicas)."""

from __future__ import annotations

import uuid

import pytest

from agents.llm.fakes import ScriptedChatProvider
from agents.llm.gateway import LlmLimits
from agents.llm.ports import ChatMessage
from enginedge_streams.adapters.redis_client import RedisClient
from enginedge_streams.adapters.redis_rate_limiter import RedisRateLimiter
from enginedge_streams.errors import RateLimitedError
from tests.support.stack import REDIS_URL
from tests.unit.llm.helpers import make_gateway

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def redis(stack):
    client = RedisClient(REDIS_URL)
    yield client
    await client.stop()


async def test_two_replicas_share_one_request_budget(redis):
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    limits = LlmLimits(requests_per_minute=3, tokens_per_minute=1_000_000)
    replicas = [make_gateway({"openai": ScriptedChatProvider()}, limits=limits) for _ in range(2)]
    for gw in replicas:
        gw.rate_limiter = RedisRateLimiter(redis, prefix=prefix)
    msg = [ChatMessage("user", "hi")]
    model = replicas[0].resolve("scripted-tools")
    await replicas[0].chat(model, msg, max_tokens=5)
    await replicas[1].chat(model, msg, max_tokens=5)
    await replicas[0].chat(model, msg, max_tokens=5)
    with pytest.raises(RateLimitedError) as info:
        await replicas[1].chat(model, msg, max_tokens=5)
    assert 0 < info.value.retry_after <= 60


async def test_token_budget_on_redis(redis):
    gw = make_gateway(
        {"openai": ScriptedChatProvider()},
        limits=LlmLimits(requests_per_minute=1000, tokens_per_minute=1000),
    )
    gw.rate_limiter = RedisRateLimiter(redis, prefix=f"t{uuid.uuid4().hex[:8]}:")
    model = gw.resolve("scripted-tools")
    await gw.chat(model, [ChatMessage("user", "hi")], max_tokens=500)
    with pytest.raises(RateLimitedError, match="RATE_LIMIT_TOKENS_PER_MINUTE"):
        await gw.chat(model, [ChatMessage("user", "hi")], max_tokens=500)

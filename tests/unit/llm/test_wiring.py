"""Both workers' wiring without a broker: Faust's agent.test_context() drives the real agents.

The apps come from the composition root with fakes swapped in by name
(providers, Redis, rate limiter, tool runner, result sink); the memory table is
the real Faust table (in-memory store), wrapped as the ConversationStore port.
"""

from __future__ import annotations

import asyncio
import json

import orjson
import pytest

from agents.llm.fakes import FakeToolRunner, ScriptedChatProvider, tool_call_reply
from agents.llm.settings import LlmSettings
from enginedge_streams.bootstrap import bootstrap
from enginedge_streams.records import Command, Status
from enginedge_streams.settings import Settings
from enginedge_streams.testing import RecordingSink
from enginedge_streams.testing.fakes import InMemoryCache, InMemoryRateLimiter


class FakeRedis:
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def ping(self) -> bool:
        return True


def message(cmd: Command) -> dict:
    return {"key": cmd.command_id.encode(), "value": orjson.dumps(cmd.model_dump(mode="json"))}


def wire(worker_type, tmp_path, overrides):
    sink = RecordingSink()
    settings = Settings(worker_type=worker_type, data_dir=tmp_path, topic_prefix="wiring.")
    app = bootstrap(settings, overrides={"redis": FakeRedis(), "result_sink": sink, **overrides})
    app.conf.store = "memory://"
    app.finalize()
    runtime = app.enginedge_runtimes[worker_type]
    agent = next(a for a in app.agents.values() if a.name.endswith(f"{worker_type}-commands"))
    return runtime, agent, sink


async def test_llm_chat_memory_and_agent_through_the_faust_agent(tmp_path, monkeypatch):
    monkeypatch.setenv(
        "LLM_MODEL_REGISTRY", json.dumps({"m": {"provider": "openai", "supports_tools": True}})
    )
    monkeypatch.setenv("DEFAULT_MODEL", "m")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wiring")
    monkeypatch.setenv("LOCAL_MODEL_ENABLED", "false")

    def script(request):
        if request.tools and not any(m.role == "tool" for m in request.messages):
            return tool_call_reply("calculator", {"expression": "2+2"})
        return f"seen {len(request.messages)} messages"

    provider = ScriptedChatProvider(script=script, name="openai")
    tools = FakeToolRunner({"calculator": lambda a: {"result": 4}})
    runtime, agent, sink = wire(
        "llm",
        tmp_path,
        {
            "llm_providers": {"openai": provider},
            "rate_limiter": InMemoryRateLimiter(),
            "tool_runner": tools,
        },
    )
    await runtime.start_components()
    chat = [
        Command(
            command_id=f"w-{i}",
            command_type="assistant.chat",
            payload={"conversation_id": "c", "message": f"hi {i}"},
        )
        for i in range(2)
    ]
    agent_cmd = Command(
        command_id="w-agent", command_type="assistant.run_agent", payload={"task": "2+2?"}
    )
    get = Command(
        command_id="w-get", command_type="conversation.get", payload={"conversation_id": "c"}
    )
    async with agent.test_context() as ctx:
        for cmd in (*chat, agent_cmd, get):
            await ctx.put(**message(cmd))
    results = {r.command_id: r for r, _ in sink.results}
    assert results["w-0"].result["reply"] == "seen 1 messages"
    assert results["w-1"].result["reply"] == "seen 3 messages"  # the first turn came from the table
    assert results["w-agent"].status is Status.COMPLETED
    assert results["w-agent"].result["steps"][0]["observation"] == {"result": 4}
    assert results["w-get"].result["turn_count"] == 4
    assert results["w-0"].usage.model == "m"


async def test_agent_tool_worker_through_the_faust_agent(tmp_path, monkeypatch):
    monkeypatch.setenv("TOOL_SANDBOX_DIR", str(tmp_path / "sandbox"))
    from agents.agent_tool.fakes import InMemoryExecutionBudget

    runtime, agent, sink = wire(
        "agent_tool",
        tmp_path,
        {
            "rate_limiter": InMemoryRateLimiter(),
            "cache:toolcache": InMemoryCache(),
            "execution_budget": InMemoryExecutionBudget(),
        },
    )
    await runtime.start_components()
    cmds = [
        Command(command_id="t-1", command_type="tool.list", payload={}),
        Command(
            command_id="t-2",
            command_type="tool.execute",
            payload={"tool": "calculator", "args": {"expression": "6*7"}},
        ),
        Command(
            command_id="t-3",
            command_type="tool.execute",
            payload={"tool": "files", "args": {"operation": "read", "path": "../x"}},
        ),
    ]
    async with agent.test_context() as ctx:
        for cmd in cmds:
            await ctx.put(**message(cmd))
        for _ in range(100):  # the files tool runs in a thread: wait for its result
            if len(sink.results) == len(cmds):
                break
            await asyncio.sleep(0.05)
    results = {r.command_id: r for r, _ in sink.results}
    names = {t["name"] for t in results["t-1"].result["tools"]}
    assert {
        "calculator",
        "http_request",
        "web_page_text",
        "files",
        "json_query",
        "datetime",
        "document_search",
        "nlp_analyze",
    } <= names
    assert results["t-2"].result["result"]["result"] == 42
    assert results["t-3"].status is Status.FAILED and results["t-3"].error.code == "PATH_REFUSED"


def test_settings_secrets_and_providers(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "ak-x")
    monkeypatch.setenv("OPENAI_COMPATIBLE_BASE_URL", "http://127.0.0.1:11434/v1")
    s = LlmSettings()
    assert s.configured_providers() == ["anthropic", "openai_compatible", "local"]
    assert "ak-x" not in repr(s) and s.secret("anthropic_api_key") == "ak-x"
    monkeypatch.setenv("LLM_FALLBACK_PROVIDER", "anthropic")
    assert LlmSettings().fallback_model() == "claude-3-5-haiku-latest"
    monkeypatch.setenv("LLM_MEMORY_STRATEGY", "forever")
    with pytest.raises(Exception, match="LLM_MEMORY_STRATEGY"):
        from enginedge_streams.settings import load

        load(LlmSettings)

"""Both workers on the real Kafka and Redis: the agent's tools run on the tool worker over the bus.

One module-scoped set of processes: the assistant (llm), the tool worker
(agent_tool, loopback allowed for the local test page), the spaCy worker and a
test stand-in for the data processing worker's ``document.search``. Model calls
go to a local server speaking the OpenAI and Anthropic protocols.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time

import pytest

from enginedge_streams.records import Status
from tests.support.fake_llm_server import PAGE_MARKER, FakeLlmServer
from tests.support.workers import http_get

pytestmark = pytest.mark.timeout(180)

SECRET = "sk-test-e2e-secret-8f2a91"
MODELS = {
    "agent-script": {
        "provider": "openai",
        "supports_tools": True,
        "context_window": 8192,
        "max_output_tokens": 512,
        "input_cost_per_1k": 0.5,
        "output_cost_per_1k": 1.5,
    },
    "agent-text": {
        "provider": "openai",
        "supports_tools": False,
        "context_window": 8192,
        "max_output_tokens": 512,
    },
    "echo": {
        "provider": "openai",
        "context_window": 8192,
        "max_output_tokens": 512,
        "input_cost_per_1k": 1.0,
        "output_cost_per_1k": 2.0,
    },
    "e500-primary": {"provider": "openai", "context_window": 8192, "max_output_tokens": 256},
    "r429-e2e": {"provider": "openai", "context_window": 8192, "max_output_tokens": 256},
    "claude-backup": {
        "provider": "anthropic",
        "provider_model": "fact",
        "supports_tools": True,
        "context_window": 8192,
        "max_output_tokens": 256,
    },
}


@pytest.fixture(scope="module")
def server():
    with FakeLlmServer() as s:
        yield s


@pytest.fixture(scope="module")
def workers(module_worker_factory, server, tmp_path_factory):
    sandbox = tmp_path_factory.mktemp("sandbox")
    tool = module_worker_factory(
        "agent_tool",
        start=False,
        env={
            "HTTP_ALLOW_LOOPBACK": "true",
            "MAX_TOOL_EXECUTIONS_PER_COMMAND": "3",
            "TOOL_TIMEOUT_SECONDS": "1.5",
            "TOOL_RATE_LIMITS": "json_query=2",
            "RETRY_MAX_ATTEMPTS": "2",
            "RETRY_BACKOFF_MAX_MS": "300",
            "TOOL_SANDBOX_DIR": str(sandbox),
        },
    )
    llm = module_worker_factory(
        "llm",
        start=False,
        env={
            "OPENAI_API_KEY": SECRET,
            "OPENAI_BASE_URL": f"{server.url}/v1",
            "ANTHROPIC_API_KEY": "ak-test-e2e",
            "ANTHROPIC_BASE_URL": server.url,
            "LLM_MODEL_REGISTRY": json.dumps(MODELS),
            "DEFAULT_MODEL": "echo",
            "LLM_FALLBACK_MODEL": "claude-backup",
            "LLM_FALLBACK_AFTER_ATTEMPTS": "2",
            "RETRY_BACKOFF_BASE_MS": "100",
            "RETRY_BACKOFF_MAX_MS": "3000",
            "MAX_TOKENS_PER_REQUEST": "1000",
        },
    )
    spacy = module_worker_factory("spacy", start=False)
    search = module_worker_factory(
        "data_processing",
        start=False,
        env={"WORKER_PLUGINS": "data_processing=tests.support.fake_search_worker"},
    )
    everyone = [tool, llm, spacy, search]
    for w in everyone:
        w.start(wait=False)
    for w in everyone:
        w.wait_ready(120)
    return {"tool": tool, "llm": llm}


async def test_run_agent_runs_calculator_then_http_request_on_the_tool_worker(
    workers, server, module_bus
):
    result = await module_bus.call(
        "llm",
        "assistant.run_agent",
        {
            "task": "Multiply 17 by 23, then read the mission page.",
            "model": "agent-script",
            "tools": ["calculator", "http_request"],
            "user_id": "agent-user",
        },
        timeout=120,
    )
    assert result.status is Status.COMPLETED, result.error
    out = result.result
    assert [s["tool"] for s in out["steps"]] == ["calculator", "http_request"]
    assert out["steps"][0]["observation"]["result"] == 391
    assert PAGE_MARKER in out["steps"][1]["observation"]["body"]
    assert "391" in out["final_answer"] and "AURORA-7" in out["final_answer"]
    assert out["stop_reason"] == "final_answer" and out["protocol"] == "tools"
    assert result.usage.cost_usd == out["cost_usd"] > 0
    # the tool worker really executed both calls: their commands are in its status table
    tool_calls = [
        r for r in server.requests if r["api"] == "openai" and r["body"]["model"] == "agent-script"
    ]
    assert len(tool_calls) == 3
    status, body = http_get(f"{workers['tool'].url}/metrics")
    metrics = body.decode()
    assert (
        'worker_external_api_calls_total{api="tool:calculator",worker_type="agent_tool"} 1.0'
        in metrics
    )
    assert (
        'worker_external_api_calls_total{api="tool:http_request",worker_type="agent_tool"} 1.0'
        in metrics
    )
    # the trace is recorded in the conversation
    conv = await module_bus.call(
        "llm", "conversation.get", {"conversation_id": out["conversation_id"]}, timeout=30
    )
    turns = conv.result["turns"]
    assert [t.get("tool") for t in turns if t["kind"] == "step" and t["role"] == "tool"] == [
        "calculator",
        "http_request",
    ]
    assert turns[-1]["content"] == out["final_answer"]


async def test_run_agent_with_the_text_protocol(workers, module_bus):
    result = await module_bus.call(
        "llm",
        "assistant.run_agent",
        {"task": "Multiply 17 by 23, then read the page.", "model": "agent-text"},
        timeout=120,
    )
    assert result.status is Status.COMPLETED, result.error
    out = result.result
    assert out["protocol"] == "text" and [s["tool"] for s in out["steps"]] == [
        "calculator",
        "http_request",
    ]
    assert "391" in out["final_answer"] and "AURORA-7" in out["final_answer"]


async def test_bus_tools_reach_the_spacy_and_search_workers(workers, module_bus):
    nlp, search = await asyncio.gather(
        module_bus.call(
            "agent_tool",
            "tool.execute",
            {"tool": "nlp_analyze", "args": {"text": "Angela Merkel visited Paris in 2019."}},
            timeout=60,
        ),
        module_bus.call(
            "agent_tool",
            "tool.execute",
            {"tool": "document_search", "args": {"query": "kafka partitions", "top_k": 2}},
            timeout=60,
        ),
    )
    assert nlp.status is Status.COMPLETED, nlp.error
    assert "Paris" in {e["text"] for e in nlp.result["result"]["entities"]}
    assert search.status is Status.COMPLETED, search.error
    assert search.result["result"]["results"][0]["document_id"] == "kafka"


async def test_redirects_to_internal_addresses_are_refused(workers, server, module_bus):
    for tool in ("http_request", "web_page_text"):
        for target in (
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/",
            "http://[::ffff:192.168.0.1]/",
        ):
            r = await module_bus.call(
                "agent_tool",
                "tool.execute",
                {"tool": tool, "args": {"url": f"{server.url}/redirect?to={target}"}},
                timeout=30,
            )
            assert r.status is Status.FAILED and r.error.code == "URL_REFUSED", (
                tool,
                target,
                r.error,
            )


async def test_n_plus_first_tool_call_of_a_command_fails_cleanly(workers, module_bus):
    results = []
    for i in range(4):
        results.append(
            await module_bus.call(
                "agent_tool",
                "tool.execute",
                {"tool": "calculator", "args": {"expression": f"{i}+1"}},
                timeout=30,
                correlation_id="one-agent-run",
            )
        )
    assert [r.status for r in results[:3]] == [Status.COMPLETED] * 3
    assert results[3].status is Status.FAILED and results[3].error.code == "LIMIT_EXCEEDED"
    assert "MAX_TOOL_EXECUTIONS_PER_COMMAND=3" in results[3].error.message
    batch = await module_bus.call(
        "agent_tool",
        "tool.execute_batch",
        {"calls": [{"tool": "calculator", "args": {"expression": "1"}}] * 4},
        timeout=30,
    )
    assert batch.status is Status.FAILED and batch.error.code == "LIMIT_EXCEEDED"
    after = await module_bus.call(
        "agent_tool",
        "tool.execute",
        {"tool": "calculator", "args": {"expression": "2*21"}},
        timeout=30,
    )
    assert after.status is Status.COMPLETED and after.result["result"]["result"] == 42


async def test_call_over_the_tool_rate_fails_cleanly(workers, module_bus):
    results = [
        await module_bus.call(
            "agent_tool",
            "tool.execute",
            {"tool": "json_query", "args": {"expression": "a", "data": {"a": i}}},
            timeout=30,
        )
        for i in range(3)
    ]
    assert [r.status for r in results[:2]] == [Status.COMPLETED] * 2
    over = results[2]
    assert (
        over.status is Status.FAILED and over.error.code == "RATE_LIMITED" and over.error.retryable
    )
    assert "RATE_LIMIT_PER_TOOL" in over.error.message and over.attempts == 2
    after = await module_bus.call(
        "agent_tool",
        "tool.execute",
        {"tool": "calculator", "args": {"expression": "1+1"}},
        timeout=30,
    )
    assert after.status is Status.COMPLETED


async def test_tool_over_its_timeout_fails_cleanly(workers, server, module_bus):
    started = time.monotonic()
    slow = await module_bus.call(
        "agent_tool",
        "tool.execute",
        {"tool": "http_request", "args": {"url": f"{server.url}/slow-page?s=6"}},
        timeout=30,
    )
    assert slow.status is Status.FAILED and slow.error.code == "TOOL_TIMEOUT"
    assert "TOOL_TIMEOUT_SECONDS=1.5" in slow.error.message and time.monotonic() - started < 6
    after = await module_bus.call(
        "agent_tool",
        "tool.execute",
        {"tool": "calculator", "args": {"expression": "3*3"}},
        timeout=30,
    )
    assert after.status is Status.COMPLETED and after.result["result"]["result"] == 9


async def test_bad_tool_args_fail_with_a_clear_code(workers, module_bus):
    r = await module_bus.call(
        "agent_tool", "tool.execute", {"tool": "calculator", "args": {"expr": "1"}}, timeout=30
    )
    assert (
        r.status is Status.FAILED
        and r.error.code == "INVALID_TOOL_ARGS"
        and "expression" in r.error.message
    )
    r2 = await module_bus.call("agent_tool", "tool.execute", {"tool": "calculator"}, timeout=30)
    assert r2.status is Status.FAILED and r2.error.code == "INVALID_TOOL_ARGS"
    r3 = await module_bus.call("agent_tool", "tool.execute", {"tool": 5}, timeout=30)
    assert r3.status is Status.FAILED and r3.error.code == "INVALID_PAYLOAD"


async def test_chat_memory_costs_and_usage(workers, server, module_bus):
    first = await module_bus.call(
        "llm",
        "assistant.chat",
        {"conversation_id": "e2e-chat", "user_id": "ada", "message": "My name is Ada."},
        timeout=60,
    )
    second = await module_bus.call(
        "llm",
        "assistant.chat",
        {"conversation_id": "e2e-chat", "user_id": "ada", "message": "What is my name?"},
        timeout=60,
    )
    assert first.status is second.status is Status.COMPLETED, (first.error, second.error)
    assert second.result["reply"] == "echo: What is my name?"
    sent = [
        r
        for r in server.requests
        if r["api"] == "openai" and r["body"]["messages"][-1]["content"] == "What is my name?"
    ][-1]
    assert [m["content"] for m in sent["body"]["messages"]] == [
        "My name is Ada.",
        "echo: My name is Ada.",
        "What is my name?",
    ]
    conv = await module_bus.call(
        "llm", "conversation.get", {"conversation_id": "e2e-chat"}, timeout=30
    )
    total = first.result["cost_usd"] + second.result["cost_usd"]
    assert conv.result["cost_usd"] == pytest.approx(total) and total > 0
    usage = await module_bus.call("llm", "usage.get", {"user_id": "ada"}, timeout=30)
    assert usage.result["cost_usd"] == pytest.approx(total) and usage.result["calls"] == 2
    other = await module_bus.call(
        "llm",
        "assistant.chat",
        {"conversation_id": "e2e-chat", "user_id": "mallory", "message": "hi"},
        timeout=60,
    )
    assert other.status is Status.FAILED and other.error.code == "CONVERSATION_FORBIDDEN"


async def test_complete_models_templates_embeddings_and_validation(workers, module_bus):
    done = await module_bus.call("llm", "assistant.complete", {"prompt": "hello"}, timeout=60)
    assert done.status is Status.COMPLETED and done.result["text"] == "echo: hello"
    assert done.result["model"] == "echo" and done.usage.total_tokens > 0
    streamed = await module_bus.call(
        "llm", "assistant.complete", {"prompt": "stream this please", "stream": True}, timeout=60
    )
    assert streamed.result["text"] == "echo: stream this please" and streamed.result["streamed"]
    models = await module_bus.call("llm", "models.list", {}, timeout=30)
    by_name = {m["name"]: m for m in models.result["models"]}
    assert (
        by_name["gpt-4"]["context_window"] == 8192
        and by_name["claude-2"]["provider"] == "anthropic"
    )
    assert by_name["agent-script"]["available"] and models.result["default_model"] == "echo"
    assert "code_generation" in {t["name"] for t in models.result["templates"]}
    missing = await module_bus.call(
        "llm",
        "assistant.complete",
        {"template": "question_answering", "variables": {"question": "?"}},
        timeout=30,
    )
    assert missing.status is Status.FAILED and missing.error.code == "TEMPLATE_VARIABLE_MISSING"
    too_many = await module_bus.call(
        "llm", "assistant.complete", {"prompt": "x", "max_tokens": 5000}, timeout=30
    )
    assert too_many.status is Status.FAILED and too_many.error.code == "LIMIT_EXCEEDED"
    bad = await module_bus.call(
        "llm", "assistant.complete", {"prompt": "x", "messages": [], "bogus": 1}, timeout=30
    )
    assert bad.status is Status.FAILED and bad.error.code == "INVALID_PAYLOAD"
    emb = await module_bus.call("llm", "assistant.embed", {"texts": ["a b", "c"]}, timeout=30)
    assert (
        emb.status is Status.COMPLETED
        and emb.result["dimension"] == 8
        and len(emb.result["vectors"]) == 2
    )


async def test_provider_429_is_retried_after_retry_after(workers, module_bus):
    started = time.monotonic()
    r = await module_bus.call(
        "llm", "assistant.complete", {"prompt": "hi", "model": "r429-e2e"}, timeout=60
    )
    assert r.status is Status.COMPLETED, r.error
    assert r.attempts == 2 and time.monotonic() - started >= 1.0  # Retry-After: 1 was honoured
    assert r.result["fallback_used"] is False


async def test_failing_provider_falls_back_to_the_second(workers, module_bus):
    r = await module_bus.call(
        "llm",
        "assistant.complete",
        {"prompt": "Capital of France?", "model": "e500-primary"},
        timeout=60,
    )
    assert r.status is Status.COMPLETED, r.error
    assert r.attempts == 2 and r.result["fallback_used"] and r.result["provider"] == "anthropic"
    assert r.result["text"] == "Paris" and r.result["model"] == "claude-backup"
    _, body = http_get(f"{workers['llm'].url}/metrics")
    text = body.decode()
    assert 'worker_external_api_errors_total{api="openai",worker_type="llm"}' in text
    assert 'worker_external_api_calls_total{api="anthropic",worker_type="llm"}' in text
    assert (
        "worker_tokens_total" in text
        and 'worker_cost_usd_total{model="echo",worker_type="llm"}' in text
    )


def test_secrets_never_reach_the_logs(workers):
    assert not any(SECRET in line for line in workers["llm"].log_lines())


async def test_memory_survives_a_restart_with_wiped_local_state(workers, server, module_bus):
    before = await module_bus.call(
        "llm", "conversation.get", {"conversation_id": "e2e-chat"}, timeout=30
    )
    assert before.status is Status.COMPLETED
    llm = workers["llm"]
    llm.stop(timeout=30)
    shutil.rmtree(llm.data_dir, ignore_errors=True)  # RocksDB gone: rebuilt from the changelog
    llm.start(timeout=120)
    after = await module_bus.call(
        "llm", "conversation.get", {"conversation_id": "e2e-chat"}, timeout=60
    )
    assert after.status is Status.COMPLETED, after.error
    assert after.result["turns"] == before.result["turns"]
    assert after.result["cost_usd"] == before.result["cost_usd"]
    more = await module_bus.call(
        "llm",
        "assistant.chat",
        {"conversation_id": "e2e-chat", "user_id": "ada", "message": "Still there?"},
        timeout=60,
    )
    assert more.status is Status.COMPLETED
    sent = [
        r
        for r in server.requests
        if r["api"] == "openai" and r["body"]["messages"][-1]["content"] == "Still there?"
    ][-1]
    assert sent["body"]["messages"][0]["content"] == "My name is Ada."

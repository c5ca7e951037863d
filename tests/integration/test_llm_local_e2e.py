"""The offline assistant end to end: no key, the packaged model on llama-server, real Kafka/Redis.

The assistant (llm) runs with no provider key, so its default is the local
model; here the smaller packaged one (DEFAULT_MODEL=qwen2.5-coder-0.5b-instruct,
the same Qwen2.5 chat template and tool syntax as the 1.5B default) keeps CI
short. Its agent's tool calls (Qwen2.5's template syntax, held to a grammar) go over the
bus to the real tool worker: the calculator, and the date tool's schema with an enum.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from agents.llm.llamacpp_chat_provider import local_model_available
from enginedge_streams.records import Status
from tests.support.workers import http_get

SMALL = "qwen2.5-coder-0.5b-instruct"
AVAILABLE, WHY = local_model_available(SMALL, preference="server")
pytestmark = [
    pytest.mark.local_model,
    pytest.mark.timeout(600),
    pytest.mark.skipif(not AVAILABLE, reason=f"{WHY}; run `make setup`"),
]


@pytest.fixture(scope="module")
def workers(module_worker_factory):
    tool = module_worker_factory("agent_tool", start=False)
    llm = module_worker_factory(
        "llm",
        start=False,
        env={
            "DEFAULT_MODEL": SMALL,
            "LOCAL_MODEL_THREADS": "2",
            "LLM_REQUEST_TIMEOUT_SECONDS": "300",
        },
    )
    for w in (tool, llm):
        w.start(wait=False)
    tool.wait_ready(120)
    ready = llm.wait_ready(300)  # ready only once the default model answered its load
    return {"tool": tool, "llm": llm, "ready": ready}


def test_ready_names_the_loaded_local_default(workers):
    status, body = http_get(f"{workers['llm'].url}/ready")
    detail = json.dumps(json.loads(body)["checks"])
    assert status == 200 and f"local default {SMALL} loaded" in detail


async def test_models_list_shows_the_local_models_and_the_default(workers, module_bus):
    r = await module_bus.call("llm", "models.list", {"provider": "local"}, timeout=60)
    assert r.status is Status.COMPLETED, r.error
    models = {m["name"]: m for m in r.result["models"]}
    assert r.result["default_model"] == SMALL and models[SMALL]["default"] is True
    assert models[SMALL]["available"] and models[SMALL]["supports_tools"]
    assert "qwen2.5-coder-1.5b-instruct" in models and "smollm2-135m-instruct" in models
    assert "installed" in models[SMALL]["local"]["status"]


async def test_complete_offline(workers, module_bus):
    r = await module_bus.call(
        "llm",
        "assistant.complete",
        {"prompt": "What is the capital of France? Answer in one word.", "max_tokens": 16,
         "temperature": 0},
        timeout=300,
    )  # fmt: skip
    assert r.status is Status.COMPLETED, r.error
    assert "paris" in r.result["text"].lower()
    assert r.result["provider"] == "local" and r.result["model"] == SMALL
    assert r.result["cost_usd"] == 0


async def test_chat_remembers_the_previous_turn(workers, module_bus):
    first = await module_bus.call(
        "llm",
        "assistant.chat",
        {"conversation_id": "local-chat", "user_id": "ada", "temperature": 0,
         "message": "My name is Ada. Reply with: Nice to meet you."},
        timeout=300,
    )  # fmt: skip
    second = await module_bus.call(
        "llm",
        "assistant.chat",
        {"conversation_id": "local-chat", "user_id": "ada", "temperature": 0,
         "message": "What is my name? Answer with the name only."},
        timeout=300,
    )  # fmt: skip
    assert first.status is second.status is Status.COMPLETED, (first.error, second.error)
    assert "ada" in second.result["reply"].lower()


async def test_agent_calls_the_calculator_on_the_tool_worker(workers, module_bus):
    r = await module_bus.call(
        "llm",
        "assistant.run_agent",
        {"task": "What is 4821 * 377?", "tools": ["calculator"], "temperature": 0,
         "max_steps": 3, "max_tokens": 128},
        timeout=300,
    )  # fmt: skip
    assert r.status is Status.COMPLETED, r.error
    out = r.result
    assert out["protocol"] == "grammar" and out["steps"][0]["tool"] == "calculator"
    # the grammar holds every call the model writes to a parseable, schema-shaped call
    assert out["tool_call_replies"] >= 1 and out["unparsed_call_replies"] == 0
    assert out["steps"][0]["ok"] and out["steps"][0]["observation"]["result"] == 4821 * 377
    assert out["stop_reason"] in ("final_answer", "tool_result")  # the 0.5B may echo the call
    assert "1817517" in out["final_answer"].replace(",", "")
    _, body = http_get(f"{workers['tool'].url}/metrics")
    assert 'worker_external_api_calls_total{api="tool:calculator",worker_type="agent_tool"}' in (
        body.decode()
    )


async def test_agent_calls_the_date_tool_on_the_tool_worker_in_a_parseable_call(
    workers, module_bus
):
    r = await module_bus.call(
        "llm",
        "assistant.run_agent",
        {"task": "How many days are there from 2024-01-15T00:00:00 to 2024-03-01T00:00:00?",
         "tools": ["datetime"], "temperature": 0, "max_steps": 1, "max_tokens": 192},
        # its long tool schema makes a slow first prompt on a loaded machine; 192 tokens: with
        # the module's earlier prompts in llama-server's cache the 0.5B wrote every optional
        # field (zones included) and a 96-token cap cut the call mid-string (unparsed)
        timeout=500,
    )  # fmt: skip
    assert r.status is Status.COMPLETED, r.error
    out = r.result
    assert out["protocol"] == "grammar" and out["unparsed_call_replies"] == 0, out
    step = out["steps"][0]
    assert step["tool"] == "datetime" and step["args"]["operation"] in ("now", "convert", "diff")
    # it reached the tool worker: a result, or that worker's own reason for refusing the
    # arguments (the grammar fixes the shape, not the 0.5B's choice of fields)
    if step["ok"] and step["args"]["operation"] == "diff":
        # the tool worker's answer to the arguments the model wrote (which dates the 0.5B
        # copies from the task is the model's quality: bench.llm_local measures that)
        start, end = (datetime.fromisoformat(step["args"][k]) for k in ("start", "end"))
        assert step["observation"]["days"] == (end - start).total_seconds() / 86400, step
    else:
        assert step["error"]["code"] in (
            "INVALID_TOOL_ARGS",
            "INVALID_DATETIME",
            "UNKNOWN_TIMEZONE",
        ), step

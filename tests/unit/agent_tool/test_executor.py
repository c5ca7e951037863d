"""The executor's limits and the handlers, with in-memory adapters (same behaviour as Redis)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agents.agent_tool.executor import ToolExecutor, ToolLimits, ToolTimeoutError
from agents.agent_tool.fakes import FlakyTool, InMemoryExecutionBudget
from agents.agent_tool.handlers import handle_execute, handle_execute_batch, handle_list
from agents.agent_tool.messages import ExecuteBatch, ExecuteTool, ListTools
from agents.agent_tool.settings import AgentToolSettings
from agents.agent_tool.tools.calculator import CalculatorTool
from enginedge_streams.errors import (
    LimitExceededError,
    NotFoundError,
    RateLimitedError,
    RetryableError,
    ValidationError,
)
from enginedge_streams.handlers import CommandContext
from enginedge_streams.records import Command, utcnow
from enginedge_streams.settings import load
from enginedge_streams.testing.fakes import InMemoryCache, InMemoryRateLimiter


def make(tools, **limits):
    return ToolExecutor(
        {t.name: t for t in tools},
        ToolLimits(**{"retry_base_s": 0.01, **limits}),
        rate_limiter=InMemoryRateLimiter(),
        cache=InMemoryCache(),
        budget=InMemoryExecutionBudget(),
    )


def ctx(command_id="cmd", correlation_id=None, seconds=30):
    return CommandContext(
        command=Command(
            command_id=command_id, command_type="tool.execute", correlation_id=correlation_id
        ),
        worker_type="agent_tool",
        attempt=1,
        deadline=utcnow() + timedelta(seconds=seconds),
    )


async def run(ex, tool, args, **kw):
    return await handle_execute(ExecuteTool(tool=tool, args=args), executor=ex, ctx=ctx(**kw))


async def test_args_are_validated_against_the_schema():
    ex = make([CalculatorTool()])
    with pytest.raises(ValidationError) as info:
        await run(ex, "calculator", {"expresion": "1+1"})
    assert info.value.code == "INVALID_TOOL_ARGS"
    assert {e["path"] for e in info.value.details["errors"]} == {"(args)"}
    with pytest.raises(NotFoundError) as unknown:
        await run(ex, "nope", {})
    assert unknown.value.code == "UNKNOWN_TOOL"


async def test_budget_per_correlation_id_refuses_the_n_plus_first_call():
    ex = make([CalculatorTool()], max_per_command=2)
    for i in range(2):
        out = await run(
            ex, "calculator", {"expression": f"{i}+1"}, command_id=f"c{i}", correlation_id="agent-1"
        )
        assert out["result"]["result"] == i + 1
    with pytest.raises(LimitExceededError, match="MAX_TOOL_EXECUTIONS_PER_COMMAND=2"):
        await run(ex, "calculator", {"expression": "1"}, command_id="c2", correlation_id="agent-1")
    # a redelivery of an allowed execution keeps its place; another run has its own budget
    assert (
        await run(ex, "calculator", {"expression": "5"}, command_id="c0", correlation_id="agent-1")
    )["tool"]
    assert (
        await run(ex, "calculator", {"expression": "5"}, command_id="x", correlation_id="agent-2")
    )["tool"]


async def test_rate_limit_per_tool():
    ex = make([CalculatorTool()], rate_per_minute=lambda name: 2, cache_ttl_s=0)
    await run(ex, "calculator", {"expression": "1"}, command_id="a")
    await run(ex, "calculator", {"expression": "2"}, command_id="b")
    with pytest.raises(RateLimitedError) as info:
        await run(ex, "calculator", {"expression": "3"}, command_id="c")
    assert info.value.retry_after > 0 and "RATE_LIMIT_PER_TOOL" in info.value.message


async def test_results_of_cacheable_tools_are_cached():
    tool = FlakyTool()
    ex = make([tool])
    first = await run(ex, "flaky", {"x": 2}, command_id="a")
    second = await run(ex, "flaky", {"x": 2}, command_id="b")
    assert first["cached"] is False and second["cached"] is True
    assert second["result"] == first["result"] == {"x2": 4, "run": 1} and tool.runs == 1
    third = await handle_execute(
        ExecuteTool(tool="flaky", args={"x": 2}, use_cache=False), executor=ex, ctx=ctx("c")
    )
    assert third["cached"] is False and tool.runs == 2


async def test_transient_failures_are_retried_then_reported():
    tool = FlakyTool(failures=1)
    out = await run(make([tool], retry_attempts=2), "flaky", {"x": 1})
    assert out["attempts"] == 2 and out["result"]["x2"] == 2
    with pytest.raises(RetryableError):
        await run(make([FlakyTool(failures=5)], retry_attempts=3), "flaky", {"x": 1})


async def test_timeout_is_enforced():
    ex = make([FlakyTool(sleep_s=2)], timeout_s=0.2)
    with pytest.raises(ToolTimeoutError, match="TOOL_TIMEOUT_SECONDS"):
        await run(ex, "flaky", {"x": 1})


async def test_batch_sequential_parallel_and_limits():
    ex = make([CalculatorTool()], max_per_command=3)
    calls = [{"tool": "calculator", "args": {"expression": e}} for e in ("1+1", "1/0", "2*3")]
    seq = await handle_execute_batch(
        ExecuteBatch(calls=calls), executor=ex, concurrency=2, ctx=ctx("b1")
    )
    assert [r["ok"] for r in seq["results"]] == [True, False, True]
    assert seq["results"][1]["error"]["code"] == "CALCULATOR_ERROR"
    stop = await handle_execute_batch(
        ExecuteBatch(calls=calls, stop_on_error=True), executor=ex, concurrency=2, ctx=ctx("b2")
    )
    assert stop["results"][2].get("skipped") is True
    par = await handle_execute_batch(
        ExecuteBatch(calls=calls, mode="parallel"), executor=ex, concurrency=2, ctx=ctx("b3")
    )
    assert [r["index"] for r in par["results"]] == [0, 1, 2] and par["succeeded"] == 2
    with pytest.raises(LimitExceededError, match="nothing was executed"):
        await handle_execute_batch(
            ExecuteBatch(calls=calls * 2), executor=ex, concurrency=2, ctx=ctx("b4")
        )
    with pytest.raises(ValidationError):
        await handle_execute_batch(
            ExecuteBatch(calls=[{"tool": "calculator", "args": {}}]),
            executor=ex,
            concurrency=2,
            ctx=ctx("b5"),
        )


async def test_list_describes_every_tool_with_its_schema():
    ex = make([CalculatorTool(), FlakyTool()])
    out = await handle_list(ListTools(), executor=ex)
    assert [t["name"] for t in out["tools"]] == ["calculator", "flaky"]
    assert out["tools"][0]["args_schema"]["required"] == ["expression"]
    with pytest.raises(NotFoundError):
        await handle_list(ListTools(names=["nope"]), executor=ex)


def test_settings_per_tool_rate_overrides(monkeypatch):
    monkeypatch.setenv("TOOL_RATE_LIMITS", "http_request=5, calculator=600")
    s = load(AgentToolSettings)
    assert s.rate_limit_for("http_request") == 5 and s.rate_limit_for("json_query") == 60
    monkeypatch.setenv("TOOL_RATE_LIMITS", "http_request")
    with pytest.raises(Exception, match="TOOL_RATE_LIMITS"):
        load(AgentToolSettings)

"""``BusToolRunner`` over the platform's ``BusCaller`` (the scripted fake; the Kafka path is in
tests/integration/test_llm_agent_e2e.py and test_llm_local_e2e.py)."""

from __future__ import annotations

import pytest

from agents.llm.bus_tool_runner import BusToolRunner
from enginedge_streams.errors import DependencyUnavailableError, PermanentError
from enginedge_streams.ports.bus_caller import CallOutcome
from enginedge_streams.testing.bus import ScriptedBusCaller

LISTING = {
    "tools": [
        {"name": "calculator", "description": "math", "args_schema": {"type": "object"}},
    ]
}


async def test_an_execution_is_the_agents_call_id_counted_against_its_run():
    caller = ScriptedBusCaller({("agent_tool", "tool.execute"): {"result": {"value": 4}}})
    runner = BusToolRunner(caller)
    result = await runner.execute(
        "calculator", {"expression": "2+2"}, call_id="run-1.s1.abc", budget_key="run-1", timeout=5
    )
    assert result.ok and result.output == {"value": 4}
    (command,) = caller.commands
    assert (command.command_id, command.correlation_id) == ("run-1.s1.abc", "run-1")
    assert command.payload == {"tool": "calculator", "args": {"expression": "2+2"}}
    assert command.timeout_ms == 5000


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (CallOutcome.failed("TOOL_ARGS_INVALID", "expression is required"), "TOOL_ARGS_INVALID"),
        (CallOutcome.failed("DEADLINE_EXCEEDED", "no answer", retryable=True), "DEADLINE_EXCEEDED"),
        (PermanentError("budget", code="TOOL_BUDGET_EXCEEDED"), "TOOL_BUDGET_EXCEEDED"),
    ],
)
async def test_a_failed_execution_is_an_observation_not_an_exception(answer, code):
    runner = BusToolRunner(ScriptedBusCaller({("agent_tool", "tool.execute"): answer}))
    result = await runner.execute("calculator", {}, call_id="c", budget_key="r", timeout=5)
    assert not result.ok and result.error_code == code and result.error_message


async def test_the_tool_list_is_cached_and_a_failed_listing_raises_the_shared_codes():
    caller = ScriptedBusCaller({("agent_tool", "tool.list"): LISTING})
    runner = BusToolRunner(caller, cache_s=60)
    assert [t.name for t in await runner.list_tools()] == ["calculator"]
    assert [t.name for t in await runner.list_tools()] == ["calculator"]
    assert len(caller.calls) == 1
    down = CallOutcome.failed("DEADLINE_EXCEEDED", "nobody", retryable=True)
    with pytest.raises(DependencyUnavailableError):
        await BusToolRunner(ScriptedBusCaller({("agent_tool", "tool.list"): down})).list_tools()

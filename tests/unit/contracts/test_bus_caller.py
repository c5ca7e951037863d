"""The ``BusCaller`` contract: the Kafka adapter (over a scripted result bus) and the fake.

One set of codes for every worker: no answer in time or a retryable failure ->
``DependencyUnavailableError`` (retried); a permanent failure -> ``PermanentError`` with
``DEPENDENCY_FAILED`` and the callee's code in the details. ``call_outcome`` gives the same
answers as values (``DEADLINE_EXCEEDED`` when nobody answered) for a command the caller
built (its ``command_id``/``correlation_id`` reach the bus as given).
"""

from __future__ import annotations

from typing import Any

import pytest

from enginedge_streams.adapters.kafka_bus_caller import KafkaBusCaller
from enginedge_streams.errors import (
    DeadlineExceededError,
    DependencyUnavailableError,
    PermanentError,
)
from enginedge_streams.ports.bus_caller import CallOutcome
from enginedge_streams.records import Command, ErrorInfo, Result, Status
from enginedge_streams.testing.bus import ScriptedBusCaller

OK = {"text": "fine"}


class ResultBus:
    """``BusClient.call``: answers per (worker, command type) a Result, or raises."""

    def __init__(self, answers: dict[tuple[str, str], Any]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str]] = []
        self.commands: list[Command] = []

    async def call_command(self, worker_type: str, command: Command, *, timeout: float) -> Result:
        self.commands.append(command)
        return await self.call(worker_type, command.command_type, command.payload, timeout=timeout)

    async def call(
        self, worker_type: str, command_type: str, payload: dict[str, Any], *, timeout: float
    ) -> Result:
        self.calls.append((worker_type, command_type))
        answer = self.answers[(worker_type, command_type)]
        if isinstance(answer, Exception):
            raise answer
        status, body = answer
        return Result(
            command_id="c1",
            worker_type=worker_type,
            command_type=command_type,
            status=status,
            result=body if status is Status.COMPLETED else None,
            error=body if status is Status.FAILED else None,
        )


def _failed(code: str, retryable: bool) -> tuple[Status, ErrorInfo]:
    return Status.FAILED, ErrorInfo(code=code, message="it broke", retryable=retryable)


# (what the callee does) -> (the bus's answer, the fake's equivalent)
CASES = {
    "completed": ((Status.COMPLETED, OK), OK),
    "timeout": (
        DeadlineExceededError("no answer"),
        DependencyUnavailableError("llm did not answer", details={"code": "DEADLINE_EXCEEDED"}),
    ),
    "retryable": (
        _failed("UPSTREAM_BUSY", True),
        DependencyUnavailableError("llm failed", details={"code": "UPSTREAM_BUSY"}),
    ),
    "permanent": (
        _failed("INVALID_PAYLOAD", False),
        PermanentError("llm failed", code="DEPENDENCY_FAILED", details={"code": "INVALID_PAYLOAD"}),
    ),
}


def _caller(kind: str, case: str) -> Any:
    on_bus, on_fake = CASES[case]
    if kind == "kafka":
        return KafkaBusCaller(
            ResultBus({("llm", "assistant.complete"): on_bus, ("llm", "system.ping"): on_bus})
        )
    return ScriptedBusCaller(
        {("llm", "assistant.complete"): on_fake},
        down=set() if case == "completed" else {"llm"},
    )


@pytest.mark.parametrize("kind", ["kafka", "scripted"])
async def test_a_completed_call_returns_the_result_payload(kind):
    assert await _caller(kind, "completed").call("llm", "assistant.complete", {}, timeout=1) == OK


@pytest.mark.parametrize("kind", ["kafka", "scripted"])
@pytest.mark.parametrize("case", ["timeout", "retryable"])
async def test_no_answer_or_a_retryable_failure_is_dependency_unavailable(kind, case):
    with pytest.raises(DependencyUnavailableError) as err:
        await _caller(kind, case).call("llm", "assistant.complete", {}, timeout=1)
    assert err.value.retryable and err.value.code == "DEPENDENCY_UNAVAILABLE"


@pytest.mark.parametrize("kind", ["kafka", "scripted"])
async def test_a_permanent_failure_is_dependency_failed_with_the_callees_code(kind):
    with pytest.raises(PermanentError) as err:
        await _caller(kind, "permanent").call("llm", "assistant.complete", {}, timeout=1)
    assert err.value.code == "DEPENDENCY_FAILED" and not err.value.retryable
    assert err.value.details["code"] == "INVALID_PAYLOAD"


@pytest.mark.parametrize("kind", ["kafka", "scripted"])
@pytest.mark.parametrize("case", ["completed", "timeout", "permanent"])
async def test_available_answers_and_never_raises(kind, case):
    assert await _caller(kind, case).available("llm") is (case == "completed")


async def test_the_kafka_caller_caches_a_ping_for_its_ttl():
    bus = ResultBus({("llm", "system.ping"): (Status.COMPLETED, {"pong": True})})
    caller = KafkaBusCaller(bus, ttl=60)
    assert await caller.available("llm") and await caller.available("llm")
    assert bus.calls == [("llm", "system.ping")]


COMPLETE = Command(command_type="assistant.complete", payload={})
EXECUTE = Command(
    command_id="run-1.s1", command_type="tool.execute", payload={}, correlation_id="run-1"
)

# (case) -> what call_outcome returns, for the adapter and the fake alike
OUTCOMES = {
    "completed": CallOutcome(True, OK),
    "timeout": CallOutcome(False, None, "DEADLINE_EXCEEDED", "", True),
    "retryable": CallOutcome(False, None, "UPSTREAM_BUSY", "", True),
    "permanent": CallOutcome(False, None, "INVALID_PAYLOAD", "", False),
}


@pytest.mark.parametrize("kind", ["kafka", "scripted"])
@pytest.mark.parametrize("case", list(OUTCOMES))
async def test_call_outcome_gives_the_callees_answer_as_a_value(kind, case):
    out = await _caller(kind, case).call_outcome("llm", COMPLETE, timeout=1)
    expected = OUTCOMES[case]
    assert (out.ok, out.result, out.code, out.retryable) == (
        expected.ok,
        expected.result,
        expected.code,
        expected.retryable,
    )
    assert out.ok or out.message  # a failure always says what happened


@pytest.mark.parametrize("case", ["retryable", "permanent"])
async def test_a_failed_outcome_unwraps_to_the_same_exception_as_call(case):
    caller = _caller("kafka", case)
    outcome = await caller.call_outcome("llm", COMPLETE, timeout=1)
    with pytest.raises(type(CASES[case][1])) as from_outcome:
        outcome.unwrap("llm", "assistant.complete")
    with pytest.raises(type(CASES[case][1])) as from_call:
        await caller.call("llm", "assistant.complete", {}, timeout=1)
    assert from_outcome.value.code == from_call.value.code
    assert from_outcome.value.details == from_call.value.details


async def test_the_scripted_caller_serves_canned_outcomes_to_both_methods():
    failed = CallOutcome.failed("TOOL_ERROR", "no", retryable=False)
    caller = ScriptedBusCaller({("agent_tool", "tool.execute"): failed})
    assert await caller.call_outcome("agent_tool", EXECUTE, timeout=1) == failed
    with pytest.raises(PermanentError) as err:
        await caller.call("agent_tool", "tool.execute", {}, timeout=1)
    assert err.value.code == "DEPENDENCY_FAILED" and err.value.details["code"] == "TOOL_ERROR"


async def test_the_callers_command_reaches_the_bus_as_built():
    bus = ResultBus({("agent_tool", "tool.execute"): (Status.COMPLETED, OK)})
    out = await KafkaBusCaller(bus).call_outcome("agent_tool", EXECUTE, timeout=1)
    assert out.ok and bus.commands == [EXECUTE]
    fake = ScriptedBusCaller({("agent_tool", "tool.execute"): OK})
    assert (await fake.call_outcome("agent_tool", EXECUTE, timeout=1)).ok
    assert fake.commands == [EXECUTE]

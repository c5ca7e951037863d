"""The ``BusCaller`` contract: the Kafka adapter (over a scripted result bus) and the fake.

One set of codes for every worker: no answer in time or a retryable failure ->
``DependencyUnavailableError`` (retried); a permanent failure -> ``PermanentError`` with
``DEPENDENCY_FAILED`` and the callee's code in the details.
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
from enginedge_streams.records import ErrorInfo, Result, Status
from enginedge_streams.testing.bus import ScriptedBusCaller

OK = {"text": "fine"}


class ResultBus:
    """``BusClient.call``: answers per (worker, command type) a Result, or raises."""

    def __init__(self, answers: dict[tuple[str, str], Any]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str]] = []

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
        DependencyUnavailableError("llm did not answer"),
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

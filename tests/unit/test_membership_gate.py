"""A command starts only while this process is confirmed as a member of its group."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.consumer.group_coordinator import GroupCoordinator

from enginedge_streams.membership import HEARTBEAT_OK, Membership, MembershipGate


class Flow:
    def __init__(self) -> None:
        self.active = True

    def is_active(self) -> bool:
        return self.active


def fake_app(coordinator: Any) -> Any:
    kafka = SimpleNamespace(_coordinator=coordinator)
    return SimpleNamespace(
        consumer_generation_id=4,
        flow_control=Flow(),
        _consumer=SimpleNamespace(_thread=SimpleNamespace(_consumer=kafka)),
    )


def gate_for(coordinator: Any, **kw: Any) -> tuple[MembershipGate, Any]:
    app = fake_app(coordinator)
    gate = MembershipGate(app, session_timeout=2.0, max_hold=kw.get("max_hold", 5.0), poll=0.01)
    return gate, app


def stale(gate: MembershipGate, coordinator: Any) -> None:
    """The assignment and the last accepted heartbeat are older than half the session."""
    gate.state(4)  # sees generation 4
    gate._assigned_at = time.monotonic() - 10
    setattr(coordinator, HEARTBEAT_OK, time.monotonic() - 10)


def test_heartbeats_are_observed_on_every_coordinator():
    assert getattr(GroupCoordinator._do_heartbeat, "_enginedge", False)


async def test_a_confirmed_member_runs_at_once():
    coordinator = SimpleNamespace(member_id="m-1")
    gate, _ = gate_for(coordinator)
    assert gate.state(4) is Membership.CONFIRMED  # just assigned
    assert await gate.admit(4)
    assert gate.held == 0


async def test_no_kafka_consumer_means_nothing_to_check():
    gate = MembershipGate(
        SimpleNamespace(consumer_generation_id=0, flow_control=Flow()),
        session_timeout=2.0,
        max_hold=1.0,
    )
    assert await gate.admit(0)


async def test_an_unconfirmed_member_waits_for_the_next_accepted_heartbeat():
    coordinator = SimpleNamespace(member_id="m-1")
    gate, _ = gate_for(coordinator)
    stale(gate, coordinator)
    assert gate.state(4) is Membership.UNCONFIRMED
    admitted = asyncio.create_task(gate.admit(4))
    await asyncio.sleep(0.05)
    assert not admitted.done()  # held
    setattr(coordinator, HEARTBEAT_OK, time.monotonic())  # the broker answered
    assert await asyncio.wait_for(admitted, 1)
    assert gate.held == 1 and gate.handed_back == 0


@pytest.mark.parametrize("how", ["expelled", "revoked", "new generation"])
async def test_an_expelled_member_hands_the_command_back(how):
    coordinator = SimpleNamespace(member_id="m-1")
    gate, app = gate_for(coordinator)
    stale(gate, coordinator)
    admitted = asyncio.create_task(gate.admit(4))
    await asyncio.sleep(0.05)
    if how == "expelled":
        coordinator.member_id = ""  # the heartbeat said UNKNOWN_MEMBER_ID
    elif how == "revoked":
        app.flow_control.active = False
    else:
        app.consumer_generation_id = 5
    assert await asyncio.wait_for(admitted, 1) is False
    assert gate.handed_back == 1


async def test_a_message_of_an_older_generation_is_not_run():
    gate, _ = gate_for(SimpleNamespace(member_id="m-1"))
    assert await gate.admit(3) is False


async def test_the_hold_is_bounded():
    coordinator = SimpleNamespace(member_id="m-1")
    gate, _ = gate_for(coordinator, max_hold=0.1)
    stale(gate, coordinator)
    assert await asyncio.wait_for(gate.admit(4), 2)  # runs after max_hold, never stuck

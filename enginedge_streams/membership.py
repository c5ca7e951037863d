"""Whether this process is still a member of its consumer group when a command starts.

A worker whose group session expired — the broker was away longer than the
session timeout, or the process stalled — keeps its partitions until its next
heartbeat is answered, and Faust keeps feeding it the commands it fetched
before. Meanwhile the group has handed those partitions to another process,
which runs the same commands: executed twice (reliability scenario 4, up to 38
of 2,000 after a 60 s broker outage).

:class:`MembershipGate` lets a command start only while membership is
confirmed: the last heartbeat the coordinator accepted (or the assignment
itself) is younger than half the session timeout. Otherwise the command waits
until a heartbeat is answered (still a member: it runs), the member id is
reset or the partitions are being revoked (expelled: it is handed back
unrun, for whoever owns the partition after the rebalance), or ``max_hold``
passes (it runs, with a warning — never stuck forever).

Heartbeats are observed on aiokafka's ``GroupCoordinator`` class (every
coordinator Faust creates, including one rebuilt after a consumer restart;
the patch is in ``enginedge_streams.faust_patches``), and the coordinator is
looked up again on every check.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from typing import Any

from enginedge_streams.faust_patches import (  # aiokafka's internals: patched there only
    HEARTBEAT_OK,
    group_coordinator,
    last_heartbeat_ok,
    observe_heartbeats,
)

log = logging.getLogger("enginedge.membership")

UNKNOWN_MEMBER_ID = ""

__all__ = ["HEARTBEAT_OK", "Membership", "MembershipGate", "observe_heartbeats"]


class Membership(enum.Enum):
    CONFIRMED = "confirmed"
    UNCONFIRMED = "unconfirmed"  # no accepted heartbeat for a while: maybe expelled
    LOST = "lost"  # expelled, or the partitions are being revoked


class MembershipGate:
    def __init__(
        self, app: Any, *, session_timeout: float, max_hold: float, poll: float = 0.1
    ) -> None:
        self.app = app
        self.fresh_for = session_timeout / 2
        self.max_hold = max_hold
        self.poll = poll
        self.held = 0  # commands that had to wait
        self.handed_back = 0  # commands not run here (expelled / revoked)
        self._generation = -1
        self._assigned_at = 0.0

    def coordinator(self) -> Any | None:
        return group_coordinator(self.app)

    def state(self, generation: int | None) -> Membership:
        app = self.app
        current = app.consumer_generation_id
        if generation is not None and generation != current:
            return Membership.LOST
        if not app.flow_control.is_active():
            return Membership.LOST
        coordinator = self.coordinator()
        if coordinator is None:  # no Kafka consumer (an agent's test_context)
            return Membership.CONFIRMED
        if coordinator.member_id == UNKNOWN_MEMBER_ID:
            return Membership.LOST
        now = time.monotonic()
        if current != self._generation:  # a new assignment: the group just confirmed us
            self._generation, self._assigned_at = current, now
        confirmed = max(last_heartbeat_ok(coordinator), self._assigned_at)
        return Membership.CONFIRMED if now - confirmed < self.fresh_for else Membership.UNCONFIRMED

    async def admit(self, generation: int | None) -> bool:
        """True: run the command here. False: hand it back unrun (not a member any more)."""
        state = self.state(generation)
        if state is Membership.CONFIRMED:
            return True
        if state is Membership.UNCONFIRMED:
            self.held += 1
            started = time.monotonic()
            while state is Membership.UNCONFIRMED:
                if time.monotonic() - started > self.max_hold:
                    log.warning(
                        "group membership not confirmed for %.0fs; running the command",
                        self.max_hold,
                    )
                    return True
                await asyncio.sleep(self.poll)
                state = self.state(generation)
            if state is Membership.CONFIRMED:
                return True
        self.handed_back += 1
        if self.handed_back == 1 or self.handed_back % 500 == 0:  # one line per burst
            log.warning(
                "no longer a member of the consumer group (session expired or partitions "
                "revoked): commands are left to their partition's next owner (%d so far)",
                self.handed_back,
            )
        return False

"""aiokafka's group membership (the last accepted heartbeat) and the private attributes of
Faust's app, consumer and producer that the platform reads.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from aiokafka.consumer.group_coordinator import GroupCoordinator

log = logging.getLogger("enginedge.app")


# -- group membership: the coordinator's last accepted heartbeat -------------------------

HEARTBEAT_OK = "_enginedge_heartbeat_ok"


def observe_heartbeats() -> None:
    """Record on each coordinator the monotonic time of its last accepted heartbeat."""
    original = GroupCoordinator._do_heartbeat
    if getattr(original, "_enginedge", False):
        return

    async def _do_heartbeat(self: Any) -> bool:
        ok = bool(await original(self))
        if ok:  # accepted (also while the group rebalances: still a member)
            setattr(self, HEARTBEAT_OK, time.monotonic())
        return ok

    _do_heartbeat._enginedge = True  # type: ignore[attr-defined]
    GroupCoordinator._do_heartbeat = _do_heartbeat


def last_heartbeat_ok(coordinator: Any) -> float:
    """Monotonic time of the coordinator's last accepted heartbeat (0: none yet)."""
    return float(getattr(coordinator, HEARTBEAT_OK, 0.0))


def kafka_consumer(app: Any) -> Any | None:
    """The app's Faust consumer if it was created (``app.consumer`` would create it)."""
    return getattr(app, "_consumer", None)


def group_coordinator(app: Any) -> Any | None:
    """aiokafka's group coordinator of the app's consumer (looked up afresh: a
    restarted consumer has a new one), or None without a Kafka consumer."""
    thread = getattr(kafka_consumer(app), "_thread", None)
    kafka = getattr(thread, "_consumer", None)
    return getattr(kafka, "_coordinator", None)


# -- other private attributes read by the platform ---------------------------------------


def crash(app: Any, exc: BaseException) -> None:
    """Crash the app's service (``mode.Service._crash``: scheduled on the loop)."""
    app._crash(exc)


def committed_offsets(consumer: Any) -> dict[Any, int | None]:
    """The consumer's last committed offset per partition (Faust's own record)."""
    committed: dict[Any, int | None] = getattr(consumer, "_committed_offset", {})
    return committed


def started_producer(app: Any) -> Any | None:
    """The app's producer if it was created and started (not in an agent's test_context)."""
    producer = getattr(app, "_producer", None)
    return producer if producer is not None and producer.started else None


async def force_metadata_update(consumer: Any) -> None:
    """Refresh an aiokafka consumer's cluster metadata now (its client's private call)."""
    await consumer._client.force_metadata_update()

"""Where command statuses live (a RocksDB-backed Faust table in production)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from enginedge_streams.records import StatusRecord


class StatusStore(Protocol):
    """Synchronous on purpose: a write must land before the processor yields.

    (A Faust table write only appends to the producer buffer, and Faust flushes
    that buffer before it commits any offset, so a RUNNING record is durable
    before the offset of a later message can be committed past it.)

    Before a result is published the processor also waits until the broker has
    every changelog write of the command (``enginedge_streams.durability``): a
    result others have seen is never followed by a second run of the command
    after a crash or a partition handover (the producer buffer can hold 100+
    unsent changelog writes under load).
    """

    def get(self, command_id: str) -> StatusRecord | None: ...

    def put(self, record: StatusRecord) -> None: ...

    def non_terminal(self) -> Iterable[StatusRecord]:
        """Every stored record not in a terminal status (local partitions only)."""
        ...

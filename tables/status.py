"""The command status table: RocksDB-backed, keyed by command id.

Its changelog is the durable copy: deleting the RocksDB directory rebuilds it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from typing import Any

import faust

from enginedge_streams.records import TERMINAL, StatusRecord

TABLE_NAME = "command-status"


class StatusTable(faust.Table):  # type: ignore[type-arg]  # faust is untyped
    """A Faust table that remembers its last changelog write, so it can be awaited."""

    last_write: Any = None

    def send_changelog(self, *args: Any, **kwargs: Any) -> Any:
        self.last_write = super().send_changelog(*args, **kwargs)
        return self.last_write


def create_status_table(app: faust.App, *, partitions: int) -> Any:
    return app.tables.add(
        StatusTable(
            app,
            name=TABLE_NAME,
            default=None,
            beacon=app.tables.beacon,
            partitions=partitions,
            key_type=bytes,  # raw: the command id's UTF-8 bytes, identical to the message key
            value_type=bytes,  # raw: StatusRecord JSON
            help="Command status and stored result, by command id.",
        )
    )


class FaustStatusStore:
    """The ``StatusStore`` port over a Faust table (values are JSON bytes)."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def get(self, command_id: str) -> StatusRecord | None:
        raw = self.table.get(command_id.encode())
        return None if raw is None else StatusRecord.model_validate_json(raw)

    def get_raw(self, command_id: str) -> bytes | None:
        raw = self.table.get(command_id.encode())
        return None if raw is None else bytes(raw)

    def put(self, record: StatusRecord) -> Awaitable[Any] | None:
        """Write the record; the returned future resolves once its changelog write is
        acknowledged by the broker (awaited for terminal records, see the processor)."""
        self.table[record.command.command_id.encode()] = record.model_dump_json().encode()
        written = getattr(self.table, "last_write", None)
        if not isinstance(written, asyncio.Future) or not self._producing():
            return None  # e.g. an agent's test_context: nothing would ever send it
        return written

    def _producing(self) -> bool:
        producer = getattr(self.table.app, "_producer", None)
        return bool(producer is not None and producer.started)

    def non_terminal(self) -> Iterator[StatusRecord]:
        for raw in self.table.values():
            if raw is None:
                continue
            record = StatusRecord.model_validate_json(raw)
            if record.status not in TERMINAL:
                yield record

    def __len__(self) -> int:
        return len(self.table)

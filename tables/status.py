"""The command status table: RocksDB-backed, keyed by command id.

Its changelog is the durable copy: deleting the RocksDB directory rebuilds it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import faust

from enginedge_streams.faust_patches import raw_table_get
from enginedge_streams.records import TERMINAL, StatusRecord

TABLE_NAME = "command-status"


def create_status_table(app: faust.App, *, partitions: int) -> Any:
    return app.Table(
        TABLE_NAME,
        default=None,
        partitions=partitions,
        key_type=bytes,  # raw: the command id's UTF-8 bytes, identical to the message key
        value_type=bytes,  # raw: StatusRecord JSON
        help="Command status and stored result, by command id.",
    )


class FaustStatusStore:
    """The ``StatusStore`` port over a Faust table (values are JSON bytes)."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def get(self, command_id: str) -> StatusRecord | None:
        raw = raw_table_get(self.table, command_id.encode())  # once per command: the short path
        return None if raw is None else StatusRecord.model_validate_json(raw)

    def get_raw(self, command_id: str) -> bytes | None:
        return raw_table_get(self.table, command_id.encode())

    def put(self, record: StatusRecord) -> None:
        # The changelog write is tracked (enginedge_streams.durability): the
        # processor waits for it before publishing a terminal result.
        self.table[record.command.command_id.encode()] = record.model_dump_json().encode()

    def non_terminal(self) -> Iterator[StatusRecord]:
        for raw in self.table.values():
            if raw is None:
                continue
            record = StatusRecord.model_validate_json(raw)
            if record.status not in TERMINAL:
                yield record

    def __len__(self) -> int:
        return len(self.table)

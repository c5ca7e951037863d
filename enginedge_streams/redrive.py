"""Re-driving (faust #606): a command whose source offset was committed while it was
still in flight is never delivered again; its RUNNING record brings it back."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from enginedge_streams.codec import encode_command
from enginedge_streams.command_state import CommandState
from enginedge_streams.logs import command_context

log = logging.getLogger("enginedge.processor")


@dataclass
class Pending:
    partition: int | None
    offset: int | None
    redriven_at: float | None = None


class RedrivePath(CommandState):
    #: non-terminal commands by id, with their source offset
    pending: dict[str, Pending]

    def rebuild_pending(self) -> int:
        """Reload the index of non-terminal commands from the store (after recovery)."""
        self.pending = {
            r.command.command_id: Pending(r.source_partition, r.source_offset)
            for r in self.store.non_terminal()
            if r.command.command_id not in self.in_flight
        }
        return len(self.pending)

    def redrive_candidates(
        self, committed: Mapping[int, int], *, now: float | None = None, every_s: float = 60.0
    ) -> list[str]:
        """Non-terminal commands whose source offset is already committed.

        Such a command will never be delivered again (the commit went past it
        while it was in flight, or the worker died after the commit), so it
        has to be re-driven. Commands whose offset is not yet committed will
        be redelivered by Kafka and are left alone.
        """
        now = time.monotonic() if now is None else now
        out = []
        for cid, p in self.pending.items():
            if cid in self.in_flight or p.partition is None or p.offset is None:
                continue
            if p.partition not in committed or committed[p.partition] <= p.offset:
                continue
            if p.redriven_at is not None and now - p.redriven_at < every_s:
                continue
            p.redriven_at = now
            out.append(cid)
        return out

    async def redrive(self, command_ids: list[str]) -> int:
        count = 0
        for cid in command_ids:
            record = self.store.get(cid)
            if record is None or record.status.terminal:
                self.pending.pop(cid, None)
                continue
            with command_context(cid, record.command.correlation_id):
                log.warning("re-driving a command whose offset was committed while in flight")
            await self.sink.resubmit(cid, encode_command(record.command))
            self.metrics.redrive()
            count += 1
        return count

"""What the command engine keeps about the commands of its partitions: the in-flight
set, RUNNING records not in the table yet (written before any offset commit), the
monitoring page's recent results. Shared by dispatch, the dead-letter path and the
re-driver (the mixins of :class:`enginedge_streams.processor.CommandProcessor`)."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping

from enginedge_streams.handlers import BoundHandler
from enginedge_streams.metrics import WorkerMetrics
from enginedge_streams.ports.result_sink import ResultSink
from enginedge_streams.ports.status_store import StatusStore
from enginedge_streams.records import Result, StatusRecord


class CommandState:
    """The state (set by ``CommandProcessor.__init__``) and its bookkeeping."""

    worker_type: str
    handlers: Mapping[str, BoundHandler]
    store: StatusStore
    sink: ResultSink
    metrics: WorkerMetrics
    in_flight: set[str]
    #: RUNNING records not in the table yet, each with the context of its command
    unwritten: dict[str, tuple[StatusRecord, contextvars.Context]]
    recent: list[dict[str, object]]
    processed: int
    owns_partition: Callable[[int], bool]

    def _save(self, record: StatusRecord) -> None:
        """Write a non-terminal record now (in the command's own context)."""
        self.unwritten.pop(record.command.command_id, None)
        self.store.put(record)

    # -- RUNNING records -------------------------------------------------------------

    def persist_in_flight(self) -> int:
        """Write the RUNNING record of every in-flight command not in the table yet.

        Called when an offset commit starts (synchronously, before Faust
        flushes the producer and commits): a commit may pass a command still
        in flight (faust #606), and from then on only its record can bring it
        back after a crash. Each write runs in its command's context, so it
        lands on the command's partition and the command's result waits for it.
        """
        unwritten, self.unwritten = self.unwritten, {}
        written = 0
        for record, context in unwritten.values():
            partition = record.source_partition
            if partition is not None and not self.owns_partition(partition):
                # Reassigned (session expiry): the new owner runs the command and
                # keeps its record; a late RUNNING write from here could land after
                # the new owner's terminal one and make it run again after recovery.
                continue
            context.run(self.store.put, record)
            written += 1
        return written

    def lookup(self, command_id: str) -> StatusRecord | None:
        """The command's current status: in memory while RUNNING and unwritten, else stored."""
        entry = self.unwritten.get(command_id)
        return entry[0] if entry is not None else self.store.get(command_id)

    # -- monitoring ----------------------------------------------------------------

    def _remember(self, result: Result) -> None:
        self.processed += 1
        self.recent.append(
            {
                "command_id": result.command_id,
                "command_type": result.command_type,
                "status": result.status.value,
                "processing_ms": result.processing_ms,
                "finished_at": result.finished_at.isoformat() if result.finished_at else None,
                "error": result.error.model_dump() if result.error else None,
            }
        )
        if len(self.recent) > 200:
            del self.recent[:100]

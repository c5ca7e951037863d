"""A command processor on the in-memory fakes, for tests of handlers and of the engine."""

from __future__ import annotations

from collections.abc import Mapping

from enginedge_streams.handlers import BoundHandler
from enginedge_streams.metrics import WorkerMetrics
from enginedge_streams.policy import RetryPolicy
from enginedge_streams.ports.result_sink import ResultSink
from enginedge_streams.ports.status_store import StatusStore
from enginedge_streams.processor import CommandProcessor
from enginedge_streams.testing.fakes import InMemoryStatusStore, RecordingSink


def in_memory_processor(
    worker_type: str,
    handlers: Mapping[str, BoundHandler],
    *,
    store: StatusStore | None = None,
    sink: ResultSink | None = None,
    max_attempts: int = 1,
    backoff_s: float = 0.001,
    timeout_s: float = 30.0,
    max_command_bytes: int = 10_000,
) -> CommandProcessor:
    """The production engine over an ``InMemoryStatusStore`` and a ``RecordingSink``
    (unless given), with retries ``backoff_s`` apart (at most ten times that)."""
    return CommandProcessor(
        worker_type=worker_type,
        handlers=handlers,
        store=InMemoryStatusStore() if store is None else store,
        sink=RecordingSink() if sink is None else sink,
        metrics=WorkerMetrics(worker_type),
        policy=RetryPolicy(max_attempts, backoff_s, backoff_s * 10),
        default_timeout_s=timeout_s,
        max_command_bytes=max_command_bytes,
    )

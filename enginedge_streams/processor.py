"""The command engine every worker runs: decode, dedupe, execute, record, publish.

Faust-free: it talks to a ``StatusStore`` and a ``ResultSink`` (ports), so the
same code is driven by the Faust agent in production and by fakes in unit
tests. Guarantees:

* no exception escapes ``handle_message`` (Faust would ack and drop it);
* a command id that reached a terminal status is never executed again — its
  stored result is re-published;
* a RUNNING record (with the full command and its source offset) is durable
  before any offset commit can pass the command: the runtime calls
  :meth:`CommandProcessor.persist_in_flight` when a commit starts, and the
  commit flushes the producer first. The re-driver uses these records to
  re-run commands whose offset was committed while they were still in flight
  (faust #606). A command that finishes between two commits (most of them)
  never needs its RUNNING record in the table: until a commit passes it,
  Kafka redelivers it after a crash. Until it is written, the record is kept
  in memory (:meth:`CommandProcessor.lookup` serves it).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from enginedge_streams.claim_check import has_references, resolve_payload
from enginedge_streams.codec import (
    decode_command,
    encode_command,
    validation_details,
    validation_summary,
)
from enginedge_streams.compute import deadline_scope
from enginedge_streams.dead_letters import DeadLetterPath, IncomingMessage
from enginedge_streams.durability import settle, tracking
from enginedge_streams.errors import DecodeError
from enginedge_streams.handlers import BoundHandler, CommandContext, Stopwatch, to_jsonable
from enginedge_streams.logs import command_context
from enginedge_streams.metrics import WorkerMetrics
from enginedge_streams.policy import RetryPolicy, classify, retry_after_of
from enginedge_streams.ports.artifact_store import ArtifactStore
from enginedge_streams.ports.result_sink import ResultSink
from enginedge_streams.ports.status_store import StatusStore
from enginedge_streams.records import (
    Command,
    ErrorInfo,
    Result,
    Status,
    StatusRecord,
    utcnow,
)
from enginedge_streams.redrive import Pending, RedrivePath
from enginedge_streams.result_bounds import bound_result, deadline_error, redacted

__all__ = ["CommandProcessor", "IncomingMessage"]

log = logging.getLogger("enginedge.processor")


@dataclass
class Recorded:
    """A command that ran, its terminal record handed to the producer, the result not published."""

    command: Command
    result: Result
    encoded: bytes
    writes: list[asyncio.Future[Any]]
    partition: int | None


class CommandProcessor(DeadLetterPath, RedrivePath):
    """Dispatch: decode, dedupe, execute with the error policy, record, publish."""

    def __init__(
        self,
        *,
        worker_type: str,
        handlers: Mapping[str, BoundHandler],
        store: StatusStore,
        sink: ResultSink,
        metrics: WorkerMetrics,
        policy: RetryPolicy,
        default_timeout_s: float,
        max_command_bytes: int,
        max_result_bytes: int = 900_000,
        artifacts: ArtifactStore | None = None,
        claim_check_max_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.worker_type = worker_type
        self.handlers = handlers
        self.store = store
        self.sink = sink
        self.metrics = metrics
        self.policy = policy
        self.default_timeout_s = default_timeout_s
        self.max_command_bytes = max_command_bytes
        self.max_result_bytes = max_result_bytes
        #: Claim checks: payload references are resolved from it, big results stored in it.
        self.artifacts = artifacts
        self.claim_check_max_bytes = claim_check_max_bytes
        self.in_flight: set[str] = set()
        #: reply_to topics of duplicates that arrived while their original ran: the
        #: original's result goes to them too when it finishes.
        self.waiting_replies: dict[str, list[str]] = {}
        #: RUNNING records not in the table yet, each with the context of its command
        #: (Faust's current event picks the table partition; the durability tracker
        #: makes the command's result wait for the write too).
        self.unwritten: dict[str, tuple[StatusRecord, contextvars.Context]] = {}
        self.pending: dict[str, Pending] = {}
        self.recent: list[dict[str, object]] = []  # for the monitoring page
        self.processed = 0
        self.on_fatal: Callable[[BaseException], Awaitable[None]] = _reraise
        #: Does this process still own the source partition? (The runtime asks the
        #: consumer.) A process that lost it mid-command - a rebalance after its
        #: session expired - must not publish: the new owner runs the command.
        self.owns_partition: Callable[[int], bool] = lambda partition: True
        self.abandoned = 0

    # -- entry point ---------------------------------------------------------------

    async def handle_message(self, msg: IncomingMessage) -> None:
        """Process one raw message. Never raises."""
        try:
            try:
                command = decode_command(msg.value, max_bytes=self.max_command_bytes)
            except DecodeError as exc:
                await self._dead_letter(msg, exc)
                return
            if msg.key != command.command_id.encode():
                # Not keyed by its id (e.g. produced without a key): re-key it so
                # every delivery of this id lands on the partition owning its status.
                # Re-encoded, so an id the decoder generated (none in the message)
                # travels with it instead of a new one being made on every delivery.
                await self.sink.resubmit(command.command_id, encode_command(command))
                return
            await self.execute(command, partition=msg.partition, offset=msg.offset)
        except Exception as exc:
            # Not a handler failure (those become FAILED results): the platform
            # itself could not record or publish. Acking would lose the command,
            # so hand it to on_fatal (the runtime crashes the worker unacked).
            await self._fatal(exc)

    async def _fatal(self, exc: Exception) -> None:
        log.critical("cannot process a message safely; stopping", exc_info=exc)
        await self.on_fatal(exc)

    async def execute(
        self, command: Command, *, partition: int | None = None, offset: int | None = None
    ) -> Result | None:
        """Run the command (or answer a duplicate) and publish its result."""
        outcome = await self.record(command, partition=partition, offset=offset)
        return await self.publish(outcome) if isinstance(outcome, Recorded) else outcome

    async def record(
        self, command: Command, *, partition: int | None = None, offset: int | None = None
    ) -> Result | Recorded | None:
        """Run the command and hand its terminal record to the producer.

        A duplicate is answered here (``None`` while its original runs, else the
        stored result, re-published). The id stays in ``in_flight`` until
        :meth:`publish`, so a duplicate arriving in between waits for the result too.
        """
        cid = command.command_id
        with command_context(cid, command.correlation_id):
            if cid in self.in_flight:
                self.metrics.duplicate()
                waiting = self.waiting_replies.setdefault(cid, [])
                if command.reply_to and command.reply_to not in waiting:
                    waiting.append(command.reply_to)
                log.info(
                    "duplicate delivery while in flight; it gets the original's result",
                    extra={"event": "dup"},
                )
                return None
            previous = self.store.get(cid)
            if previous is not None and previous.status.terminal and previous.result is not None:
                self.metrics.duplicate()
                self.pending.pop(cid, None)
                log.info("already %s; re-publishing stored result", previous.status.value)
                await self.sink.publish_result(previous.result, reply_to=command.reply_to)
                return previous.result
            with tracking() as writes:
                # ---- synchronous until the RUNNING record is registered ----
                self.in_flight.add(cid)
                attempts = previous.attempts if previous is not None else 0
                record = StatusRecord(
                    command=command,
                    status=Status.RUNNING,
                    attempts=attempts,
                    worker_type=self.worker_type,
                    source_partition=partition,
                    source_offset=offset,
                    started_at=utcnow(),
                )
                # Written to the table by persist_in_flight() before any offset commit
                # (or by the first progress/retry update), else never: see the module doc.
                self.unwritten[cid] = (record, contextvars.copy_context())
                self.pending[cid] = Pending(partition, offset)
                self.metrics.in_flight_gauge.inc()
                # ----------------------------------------------------------
                try:
                    try:
                        result = await self._run(command, record)
                    finally:
                        self.unwritten.pop(cid, None)
                        self.metrics.in_flight_gauge.dec()
                    result, encoded = await bound_result(
                        result, self.max_result_bytes, self.artifacts
                    )
                    record.status = result.status
                    record.result = result
                    record.attempts = result.attempts
                    record.updated_at = utcnow()
                    self.store.put(record)
                except BaseException:
                    self.in_flight.discard(cid)
                    raise
            return Recorded(command, result, encoded, writes, partition)

    async def publish(self, recorded: Recorded) -> Result | None:
        """Wait until every state write of the command is durable, then publish its result:
        a crash from the acknowledgement on re-publishes it instead of re-running."""
        command, result = recorded.command, recorded.result
        cid = command.command_id
        try:
            await settle(recorded.writes)
        finally:
            self.in_flight.discard(cid)
        self.pending.pop(cid, None)
        extra_replies = self.waiting_replies.pop(cid, [])
        partition = recorded.partition
        if partition is not None and not self.owns_partition(partition):
            self.abandoned += 1
            with command_context(cid, command.correlation_id):
                log.warning(
                    "partition %d was reassigned while this command ran; its new owner "
                    "runs it, this result is not published",
                    partition,
                )
            return None
        encoded = recorded.encoded
        await self.sink.publish_result(result, reply_to=command.reply_to, encoded=encoded)
        for topic in extra_replies:  # in-flight duplicates with their own reply_to
            if topic != command.reply_to:
                await self.sink.publish_result(result, reply_to=topic, encoded=encoded)
        self._remember(result)
        return result

    # -- execution with the error policy ------------------------------------------

    async def _run(self, command: Command, record: StatusRecord) -> Result:
        watch = Stopwatch()
        started = record.started_at or utcnow()
        deadline = command.effective_deadline(self.default_timeout_s)
        attempt = record.attempts

        def finish(
            status: Status,
            value: object = None,
            error: ErrorInfo | None = None,
            ctx: CommandContext | None = None,
        ) -> Result:
            result = Result(
                command_id=command.command_id,
                correlation_id=command.correlation_id,
                worker_type=self.worker_type,
                command_type=command.command_type,
                status=status,
                result=value,
                error=redacted(error),
                started_at=started,
                finished_at=utcnow(),
                processing_ms=round(watch.elapsed_ms(), 3),
                attempts=max(attempt, 1),
                usage=ctx.usage if ctx is not None else None,
            )
            self.metrics.observe_command(status.value, watch.elapsed_ms() / 1000.0)
            level = logging.INFO if status is Status.COMPLETED else logging.WARNING
            if not log.isEnabledFor(level):  # one line per command: built only when kept
                return result
            log.log(
                level,
                "%s %s" % (command.command_type, status.value.lower()),  # noqa: UP031
                extra={
                    "processingTime": result.processing_ms,
                    "commandType": command.command_type,
                    "status": status.value,
                    "attempt": result.attempts,
                    "errorCode": error.code if error else None,
                    "model": ctx.usage.model if ctx and ctx.usage else None,
                    "tokensUsed": ctx.usage.total_tokens if ctx and ctx.usage else None,
                },
            )
            return result

        handler = self.handlers.get(command.command_type)
        prepared = await self._payload(handler, command)
        if isinstance(prepared, ErrorInfo):
            return finish(Status.FAILED, error=prepared)
        assert handler is not None
        payload = prepared

        while True:
            attempt += 1
            ctx = CommandContext(
                command=command,
                worker_type=self.worker_type,
                attempt=attempt,
                deadline=deadline,
                on_progress=lambda fields: self._progress(record, fields),
            )
            remaining = (deadline - utcnow()).total_seconds()
            if remaining <= 0:
                return finish(Status.FAILED, error=deadline_error(deadline), ctx=ctx)
            record.attempts = max(record.attempts, attempt)
            try:
                # deadline_scope: compute steps (child processes) are killed at it too.
                async with asyncio.timeout(remaining):  # no extra Task per command
                    with deadline_scope(deadline):
                        value = await handler(payload, ctx)
                return finish(Status.COMPLETED, to_jsonable(value), ctx=ctx)
            except TimeoutError as exc:
                if utcnow() >= deadline:
                    return finish(Status.FAILED, error=deadline_error(deadline), ctx=ctx)
                failure: BaseException = exc
                info = classify(exc)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failure = exc
                info = classify(exc)
                if info.code == "INTERNAL_ERROR":
                    log.warning("handler raised", exc_info=True)
            if not self.policy.should_retry(info, attempt):
                return finish(Status.FAILED, error=info, ctx=ctx)
            delay = self.policy.delay(attempt, retry_after_of(failure))
            if (deadline - utcnow()).total_seconds() <= delay:
                return finish(Status.FAILED, error=info, ctx=ctx)
            self.metrics.retry()
            record.status = Status.RETRYING
            record.updated_at = utcnow()
            record.progress = {**record.progress, "last_error": info.message}
            self._save(record)
            log.info("retrying in %.2fs after %s", delay, info.code, extra={"attempt": attempt})
            await asyncio.sleep(delay)
            record.status = Status.RUNNING
            self._save(record)

    async def _payload(
        self, handler: BoundHandler | None, command: Command
    ) -> BaseModel | ErrorInfo:
        """The validated payload model, or the error that FAILS the command."""
        if handler is None:
            return ErrorInfo(
                code="UNKNOWN_COMMAND_TYPE",
                message=f"{self.worker_type} has no command {command.command_type!r}",
                details={"known": sorted(self.handlers)},
            )
        raw_payload = command.payload
        if self.artifacts is not None and has_references(raw_payload):
            try:  # claim checks: artifact references become the fields' values
                raw_payload = await resolve_payload(
                    raw_payload, self.artifacts, max_bytes=self.claim_check_max_bytes
                )
            except Exception as exc:
                return classify(exc)
        try:
            return handler.spec.payload_model.model_validate(raw_payload)
        except PydanticValidationError as exc:
            return ErrorInfo(
                code="INVALID_PAYLOAD",
                message=f"invalid payload for {command.command_type}: {validation_summary(exc)}",
                details=validation_details(exc),
            )

    def _progress(self, record: StatusRecord, fields: dict[str, object]) -> None:
        record.progress = {**record.progress, **fields}
        record.updated_at = utcnow()
        self._save(record)


async def _reraise(exc: BaseException) -> None:
    raise exc

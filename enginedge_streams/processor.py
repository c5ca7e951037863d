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
import base64
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from enginedge_streams.claim_check import has_references, resolve_payload, store_result_value
from enginedge_streams.codec import (
    command_id_of_key,
    decode_command,
    encode_command,
    encode_result,
    validation_details,
    validation_summary,
)
from enginedge_streams.compute import deadline_scope
from enginedge_streams.durability import settle, tracking
from enginedge_streams.errors import DecodeError, bound_details, bound_text
from enginedge_streams.handlers import BoundHandler, CommandContext, Stopwatch, to_jsonable
from enginedge_streams.logs import REDACTOR, command_context
from enginedge_streams.metrics import WorkerMetrics
from enginedge_streams.policy import RetryPolicy, classify, retry_after_of
from enginedge_streams.ports.artifact_store import ArtifactStore
from enginedge_streams.ports.result_sink import ResultSink
from enginedge_streams.ports.status_store import StatusStore
from enginedge_streams.records import (
    Command,
    DeadLetter,
    ErrorInfo,
    Result,
    Status,
    StatusRecord,
    utcnow,
)

log = logging.getLogger("enginedge.processor")

#: command_type of the FAILED result and status record of an undecodable keyed message.
UNDECODED_TYPE = "unknown.undecodable"

#: Raw bytes kept in a DLQ record (base64 grows them by 4/3; the producer's
#: request limit is ~1 MB, and a DLQ record that cannot be sent crash-loops the worker).
DLQ_RAW_BYTES = 512 * 1024
DLQ_KEY_BYTES = 1024


@dataclass(frozen=True)
class IncomingMessage:
    key: bytes | None
    value: bytes | None
    topic: str
    partition: int | None = None
    offset: int | None = None


@dataclass
class _Pending:
    partition: int | None
    offset: int | None
    redriven_at: float | None = None


class CommandProcessor:
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
        self.pending: dict[str, _Pending] = {}
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
            log.critical("cannot process a message safely; stopping", exc_info=True)
            await self.on_fatal(exc)

    async def execute(
        self, command: Command, *, partition: int | None = None, offset: int | None = None
    ) -> Result | None:
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
                self.pending[cid] = _Pending(partition, offset)
                self.metrics.in_flight_gauge.inc()
                # ----------------------------------------------------------
                try:
                    result = await self._run(command, record)
                finally:
                    self.in_flight.discard(cid)
                    self.unwritten.pop(cid, None)
                    self.metrics.in_flight_gauge.dec()
                result, encoded = await self._bounded(result)
                record.status = result.status
                record.result = result
                record.attempts = result.attempts
                record.updated_at = utcnow()
                self.store.put(record)
                # Every state write of this command durable before anyone sees the
                # result: a crash from here on re-publishes it instead of re-running.
                await settle(writes)
            self.pending.pop(cid, None)
            extra_replies = self.waiting_replies.pop(cid, [])
            if partition is not None and not self.owns_partition(partition):
                self.abandoned += 1
                log.warning(
                    "partition %d was reassigned while this command ran; its new owner "
                    "runs it, this result is not published",
                    partition,
                )
                return None
            await self.sink.publish_result(result, reply_to=command.reply_to, encoded=encoded)
            for topic in extra_replies:  # in-flight duplicates with their own reply_to
                if topic != command.reply_to:
                    await self.sink.publish_result(result, reply_to=topic, encoded=encoded)
            self._remember(result)
            return result

    async def _bounded(self, result: Result) -> tuple[Result, bytes]:
        """A result too big for one Kafka record travels by artifact reference.
        Returns the result to publish and its encoding (encoded once, here).

        The value goes to the artifact store (claim check) and the result
        carries ``{"kind": "artifact", "artifact_id": ...}``. Without a store,
        or if storing fails, it becomes a FAILED RESULT_TOO_LARGE: publishing
        it would fail in the producer and (as the platform cannot record the
        outcome) crash the worker on every redelivery.
        """
        encoded = encode_result(result)
        size = len(encoded)
        if size <= self.max_result_bytes:
            return result, encoded
        reason = "no artifact store is configured"
        if self.artifacts is not None and result.result is not None:
            try:
                ref = await store_result_value(
                    result.result,
                    self.artifacts,
                    command_id=result.command_id,
                    command_type=result.command_type,
                )
                by_ref = result.model_copy(update={"result": ref})
                encoded = encode_result(by_ref)
                if len(encoded) <= self.max_result_bytes:
                    log.info("result of %d bytes stored as artifact %s", size, ref["artifact_id"])
                    return by_ref, encoded
                reason = "even the result by reference is too large"
            except Exception as exc:
                log.warning("cannot store a large result as an artifact", exc_info=True)
                reason = f"the artifact store failed: {type(exc).__name__}"
        log.error("result of %d bytes exceeds MAX_RESULT_BYTES=%d", size, self.max_result_bytes)
        failed = result.model_copy(
            update={
                "status": Status.FAILED,
                "result": None,
                "error": ErrorInfo(
                    code="RESULT_TOO_LARGE",
                    message=(
                        f"the result of {size} bytes exceeds MAX_RESULT_BYTES="
                        f"{self.max_result_bytes} and {reason}; ask for less (e.g. a page)"
                    ),
                    retryable=False,
                    details={"size": size, "limit": self.max_result_bytes},
                ),
            }
        )
        return failed, encode_result(failed)

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
                error=_redacted(error),
                started_at=started,
                finished_at=utcnow(),
                processing_ms=round(watch.elapsed_ms(), 3),
                attempts=max(attempt, 1),
                usage=ctx.usage if ctx is not None else None,
            )
            self.metrics.observe_command(status.value, watch.elapsed_ms() / 1000.0)
            level = logging.INFO if status is Status.COMPLETED else logging.WARNING
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
                return finish(Status.FAILED, error=_deadline_error(deadline), ctx=ctx)
            record.attempts = max(record.attempts, attempt)
            try:
                # deadline_scope: compute steps (child processes) are killed at it too.
                async with asyncio.timeout(remaining):  # no extra Task per command
                    with deadline_scope(deadline):
                        value = await handler(payload, ctx)
                return finish(Status.COMPLETED, to_jsonable(value), ctx=ctx)
            except TimeoutError as exc:
                if utcnow() >= deadline:
                    return finish(Status.FAILED, error=_deadline_error(deadline), ctx=ctx)
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

    # -- DLQ -------------------------------------------------------------------------

    async def _dead_letter(self, msg: IncomingMessage, exc: DecodeError) -> None:
        raw, key = msg.value or b"", msg.key
        # The Kafka key is the command id by contract: an over-limit or undecodable
        # message still names the command its caller waits for.
        cid = exc.command_id or command_id_of_key(key)
        reason = bound_text(exc.message)
        if len(raw) > DLQ_RAW_BYTES:
            reason += f" (raw_base64 holds the first {DLQ_RAW_BYTES} of {len(raw)} bytes)"
            raw = raw[:DLQ_RAW_BYTES]
        letter = DeadLetter(
            worker_type=self.worker_type,
            reason=reason,
            code=exc.code,
            command_id=cid,
            raw_base64=base64.b64encode(raw).decode(),
            raw_key_base64=base64.b64encode(key[:DLQ_KEY_BYTES]).decode()
            if key is not None
            else None,
            topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
        )
        self.metrics.dead_letter()
        self.metrics.observe_command(Status.DEAD_LETTERED.value, 0.0)
        log.warning(
            "dead-lettered an undecodable message: %s",
            exc.message,
            extra={
                "topic": msg.topic,
                "partition": msg.partition,
                "offset": msg.offset,
                "errorCode": exc.code,
                "commandId": cid,
            },
        )
        await self.sink.publish_dead_letter(letter)
        if cid is None or cid in self.in_flight:
            return  # no id, or its command runs now (and will answer)
        previous = self.lookup(cid)
        if previous is not None:
            # The id already has a status: leave it alone; a terminal one is answered
            # again, as for any duplicate (a caller retrying a refused command gets it).
            if previous.status.terminal and previous.result is not None:
                await self.sink.publish_result(previous.result, reply_to=None)
            return
        # Tell a waiting caller (a FAILED result) and `enginedge status` (a terminal
        # status record); the command itself could not be understood.
        now = utcnow()
        error = ErrorInfo(
            code=exc.code,
            message=exc.message,
            details={**exc.details, "dead_lettered": True},
        )
        result = Result(
            command_id=cid,
            worker_type=self.worker_type,
            command_type=UNDECODED_TYPE,
            status=Status.FAILED,
            error=_redacted(error),
            started_at=now,
            finished_at=now,
            processing_ms=0.0,
            attempts=0,
        )
        with tracking() as writes:
            self.store.put(
                StatusRecord(
                    command=Command(command_id=cid, command_type=UNDECODED_TYPE, created_at=now),
                    status=Status.FAILED,
                    worker_type=self.worker_type,
                    source_partition=msg.partition,
                    source_offset=msg.offset,
                    started_at=now,
                    result=result,
                )
            )
            await settle(writes)
        await self.sink.publish_result(result, reply_to=None)
        self._remember(result)

    # -- re-drive (faust #606) ---------------------------------------------------------

    def rebuild_pending(self) -> int:
        """Reload the index of non-terminal commands from the store (after recovery)."""
        self.pending = {
            r.command.command_id: _Pending(r.source_partition, r.source_offset)
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


def _redacted(error: ErrorInfo | None) -> ErrorInfo | None:
    """An error without secret values and of bounded size: results are as public as logs.

    (A provider answering 401 quotes the key it was sent; handlers pass such
    messages on.) The same redactor as the logs: configured secret values, bearer
    tokens, ``sk-`` keys, JWTs, ``password=``. An error never echoes a whole
    offending value either (a 990,000-character expression in a message made a
    2 MB result): long messages keep a prefix and the size, details are cut.
    """
    if error is None:
        return None
    details = bound_details(
        {k: REDACTOR(v) if isinstance(v, str) else v for k, v in error.details.items()}
    )
    message = REDACTOR(bound_text(error.message))
    return error.model_copy(update={"message": message, "details": details})


async def _reraise(exc: BaseException) -> None:
    raise exc


def _deadline_error(deadline: datetime) -> ErrorInfo:
    return ErrorInfo(
        code="DEADLINE_EXCEEDED",
        message=f"deadline {deadline.isoformat()} passed before the command finished",
        retryable=False,
    )

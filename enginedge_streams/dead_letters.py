"""The dead-letter path: a message that cannot be decoded goes to the DLQ, and a caller
waiting for its command id (the Kafka key) gets a FAILED result."""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass

from enginedge_streams.codec import command_id_of_key
from enginedge_streams.command_state import CommandState
from enginedge_streams.durability import settle, tracking
from enginedge_streams.errors import DecodeError, bound_text
from enginedge_streams.records import (
    Command,
    DeadLetter,
    ErrorInfo,
    Result,
    Status,
    StatusRecord,
    utcnow,
)
from enginedge_streams.result_bounds import redacted

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


class DeadLetterPath(CommandState):
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
            error=redacted(error),
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

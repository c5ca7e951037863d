"""What a result may carry once it leaves the worker: bounded in size (a result too big
for one Kafka record travels by claim check) and errors without secrets."""

from __future__ import annotations

import logging
from datetime import datetime

from enginedge_streams.claim_check import store_result_value
from enginedge_streams.codec import encode_result
from enginedge_streams.errors import bound_details, bound_text
from enginedge_streams.logs import REDACTOR
from enginedge_streams.ports.artifact_store import ArtifactStore
from enginedge_streams.records import ErrorInfo, Result, Status

log = logging.getLogger("enginedge.processor")


async def bound_result(
    result: Result, max_result_bytes: int, artifacts: ArtifactStore | None
) -> tuple[Result, bytes]:
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
    if size <= max_result_bytes:
        return result, encoded
    reason = "no artifact store is configured"
    if artifacts is not None and result.result is not None:
        try:
            ref = await store_result_value(
                result.result,
                artifacts,
                command_id=result.command_id,
                command_type=result.command_type,
            )
            by_ref = result.model_copy(update={"result": ref})
            encoded = encode_result(by_ref)
            if len(encoded) <= max_result_bytes:
                log.info("result of %d bytes stored as artifact %s", size, ref["artifact_id"])
                return by_ref, encoded
            reason = "even the result by reference is too large"
        except Exception as exc:
            log.warning("cannot store a large result as an artifact", exc_info=True)
            reason = f"the artifact store failed: {type(exc).__name__}"
    log.error("result of %d bytes exceeds MAX_RESULT_BYTES=%d", size, max_result_bytes)
    failed = result.model_copy(
        update={
            "status": Status.FAILED,
            "result": None,
            "error": ErrorInfo(
                code="RESULT_TOO_LARGE",
                message=(
                    f"the result of {size} bytes exceeds MAX_RESULT_BYTES="
                    f"{max_result_bytes} and {reason}; ask for less (e.g. a page)"
                ),
                retryable=False,
                details={"size": size, "limit": max_result_bytes},
            ),
        }
    )
    return failed, encode_result(failed)


def redacted(error: ErrorInfo | None) -> ErrorInfo | None:
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


def deadline_error(deadline: datetime) -> ErrorInfo:
    return ErrorInfo(
        code="DEADLINE_EXCEEDED",
        message=f"deadline {deadline.isoformat()} passed before the command finished",
        retryable=False,
    )

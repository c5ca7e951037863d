"""Bytes <-> records. JSON on the wire, UTF-8, no Python-specific encoding."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError as PydanticValidationError

from enginedge_streams.errors import DecodeError
from enginedge_streams.records import Command, DeadLetter, Result

#: Deepest JSON nesting accepted in a command. pydantic cannot serialise much
#: deeper values (~255 levels), and a command that cannot be written to the
#: status table would crash the worker on every redelivery.
MAX_NESTING = 64
#: Field errors kept in a validation error's details (a payload can have one per list item).
MAX_ERRORS = 20
_FIELD_CHARS = 200
_LONGEST_TIMEOUT_S = 10 * 366 * 86400.0  # any sane COMMAND_TIMEOUT_SECONDS
CLAIM_CHECK_HINT = (
    'send big fields by artifact reference ({"kind": "artifact", "artifact_id": ...}; '
    "BusClient and `enginedge submit` do it for you)"
)
_KEY_ID_CHARS = 200


def command_id_of_key(key: bytes | None) -> str | None:
    """The command id a Kafka key carries (commands are keyed by it), if it looks like one."""
    if not key or len(key) > _KEY_ID_CHARS:
        return None
    try:
        text = key.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text.isprintable() and text.strip() == text else None


#: A re-encoded command is at most this many times its raw size plus ``REENCODE_SLACK``.
REENCODE_GROWTH = 5
REENCODE_SLACK = 4096


def decode_command(raw: bytes | None, *, max_bytes: int) -> Command:
    """Decode one message value into a command, or raise ``DecodeError``."""
    if raw is None or len(raw) == 0:
        raise DecodeError("empty message value")
    if len(raw) > max_bytes:
        raise DecodeError(
            f"message of {len(raw)} bytes exceeds MAX_COMMAND_BYTES={max_bytes}; "
            + CLAIM_CHECK_HINT,
            details={"size": len(raw), "limit": max_bytes},
            code="MESSAGE_TOO_LARGE",
        )
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise DecodeError(f"command must be a JSON object, got {type(data).__name__}")
    raw_id = data.get("command_id")
    command_id = raw_id if isinstance(raw_id, str) and 0 < len(raw_id) <= 200 else None
    if _deeper_than(data, MAX_NESTING):
        raise DecodeError(
            f"command nested deeper than {MAX_NESTING} levels",
            command_id=command_id,
            details={"limit": MAX_NESTING},
        )
    try:
        command = Command.model_validate(data)
    except PydanticValidationError as exc:
        raise DecodeError(
            "invalid command envelope: " + _summarise(exc),
            command_id=command_id,
            details=validation_details(exc),
        ) from None
    try:  # a created_at near year 9999 plus a timeout is past what datetime can hold
        command.effective_deadline(_LONGEST_TIMEOUT_S)
    except OverflowError:
        raise DecodeError(
            "created_at/deadline/timeout_ms out of range",
            command_id=command.command_id,
        ) from None
    # The command is stored and re-sent re-encoded, which can be longer than the
    # raw bytes (`1e9` -> `1000000000.0`): the limit holds for that form too.
    # Only a number grows (at most 4.5x: `1e15` -> `1000000000000000.0`), plus the
    # envelope's defaults, so a message far below the limit is not re-encoded here.
    if len(raw) * REENCODE_GROWTH + REENCODE_SLACK <= max_bytes:
        return command
    size = len(encode_command(command))
    if size > max_bytes:
        raise DecodeError(
            f"command of {size} bytes once re-encoded exceeds MAX_COMMAND_BYTES={max_bytes}; "
            + CLAIM_CHECK_HINT,
            command_id=command.command_id,
            details={"size": size, "limit": max_bytes},
            code="MESSAGE_TOO_LARGE",
        )
    return command


def _deeper_than(value: Any, limit: int) -> bool:
    """True if ``value`` nests lists/objects more than ``limit`` levels (iterative)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _errors(exc: PydanticValidationError) -> list[dict[str, Any]]:
    """The first MAX_ERRORS field errors (never the input values, which may be secrets)."""
    return [
        {
            "field": ".".join(str(p) for p in e["loc"])[:_FIELD_CHARS],
            "message": e["msg"][:_FIELD_CHARS],
        }
        for e in exc.errors(include_url=False, include_input=False)[:MAX_ERRORS]
    ]


def _summarise(exc: PydanticValidationError) -> str:
    return "; ".join(f"{e['field'] or '(root)'}: {e['message']}" for e in _errors(exc)[:5])


def encode_command(command: Command) -> bytes:
    return command.model_dump_json(exclude_none=True).encode()


def encode_result(result: Result) -> bytes:
    return result.model_dump_json().encode()


def decode_result(raw: bytes) -> Result:
    return Result.model_validate_json(raw)


def encode_dead_letter(letter: DeadLetter) -> bytes:
    return letter.model_dump_json().encode()


def validation_details(exc: PydanticValidationError) -> dict[str, Any]:
    details: dict[str, Any] = {"errors": _errors(exc)}
    if exc.error_count() > MAX_ERRORS:
        details["error_count"] = exc.error_count()
    return details


def validation_summary(exc: PydanticValidationError) -> str:
    return _summarise(exc)

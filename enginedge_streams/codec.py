"""Bytes <-> records. JSON on the wire, UTF-8, no Python-specific encoding."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError as PydanticValidationError

from enginedge_streams.errors import DecodeError
from enginedge_streams.records import Command, DeadLetter, Result


def decode_command(raw: bytes | None, *, max_bytes: int) -> Command:
    """Decode one message value into a command, or raise ``DecodeError``."""
    if raw is None or len(raw) == 0:
        raise DecodeError("empty message value")
    if len(raw) > max_bytes:
        raise DecodeError(
            f"message of {len(raw)} bytes exceeds MAX_COMMAND_BYTES={max_bytes}",
            details={"size": len(raw), "limit": max_bytes},
        )
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise DecodeError(f"command must be a JSON object, got {type(data).__name__}")
    try:
        return Command.model_validate(data)
    except PydanticValidationError as exc:
        command_id = data.get("command_id")
        raise DecodeError(
            "invalid command envelope: " + _summarise(exc),
            command_id=command_id if isinstance(command_id, str) and command_id else None,
            details={"errors": _errors(exc)},
        ) from None


def _errors(exc: PydanticValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
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
    return {"errors": _errors(exc)}


def validation_summary(exc: PydanticValidationError) -> str:
    return _summarise(exc)

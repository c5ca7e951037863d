"""Claim checks: what is too big for the bus travels by artifact reference.

A payload field or a result that does not fit in one Kafka record (the size
budget in :mod:`enginedge_streams.settings`) is put in the artifact store and
replaced by a reference::

    {"kind": "artifact", "artifact_id": "a3f...", "size": 1500000, "sha256": "..."}

* The client (:class:`~enginedge_streams.client.BusClient`, ``enginedge submit``)
  offloads the largest string fields of a payload until the command fits.
* Before a handler runs, the processor resolves every reference back into the
  field's value, so every command that takes a file, document, ICS text or
  LaTeX project accepts references without worker code: a text field gets the
  blob as UTF-8 text, a field named ``*_base64`` gets it base64-encoded (the
  blob itself is the raw file).
* A result too big for the bus is stored as JSON and returned by reference;
  :func:`load_result_value` (used by the client) reads it back.

Pure helpers plus the store calls; the store is the ``ArtifactStore`` port.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from typing import Any

import orjson

from enginedge_streams.errors import (
    LimitExceededError,
    NotFoundError,
    PayloadTooLargeError,
    ValidationError,
)
from enginedge_streams.ports.artifact_store import ArtifactStore, valid_artifact_id

KIND = "artifact"
#: Keys a reference may carry (anything else: an ordinary object, left alone).
REFERENCE_KEYS = frozenset({"kind", "artifact_id", "size", "sha256", "content_type", "filename"})
#: Strings shorter than this stay inline when a payload is offloaded.
MIN_OFFLOAD_CHARS = 16 * 1024
TEXT = "text/plain; charset=utf-8"
JSON = "application/json"


def is_reference(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and value.get("kind") == KIND
        and isinstance(value.get("artifact_id"), str)
        and set(value) <= REFERENCE_KEYS
    )


def reference(info: Any) -> dict[str, Any]:
    """The reference that stands for a stored artifact (``ArtifactInfo``)."""
    return {
        "kind": KIND,
        "artifact_id": info.artifact_id,
        "size": info.size,
        "sha256": info.sha256,
        "content_type": info.content_type,
    }


def has_references(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if is_reference(item):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


# -- the worker side ---------------------------------------------------------------------


async def resolve_payload(payload: dict[str, Any], store: ArtifactStore, *, max_bytes: int) -> Any:
    """A copy of ``payload`` with every artifact reference replaced by the blob's value."""
    total = [0]

    async def walk(value: Any, key: str) -> Any:
        if is_reference(value):
            return await _load_field(value, key, store, max_bytes=max_bytes, total=total)
        if isinstance(value, dict):
            return {k: await walk(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [await walk(v, key) for v in value]
        return value

    return await walk(payload, "")


async def _load_field(
    ref: dict[str, Any], key: str, store: ArtifactStore, *, max_bytes: int, total: list[int]
) -> str:
    artifact_id = str(ref["artifact_id"])
    shown = artifact_id[:40]
    if not valid_artifact_id(artifact_id):
        raise ValidationError(f"field {key!r}: invalid artifact id {shown!r}")
    info = await store.info(artifact_id)
    if info is None:
        raise NotFoundError(
            f"field {key!r}: artifact {shown} not found (unknown or expired)",
            code="ARTIFACT_NOT_FOUND",
            details={"field": key, "artifact_id": shown},
        )
    total[0] += info.size
    if total[0] > max_bytes:
        raise LimitExceededError(
            f"field {key!r}: artifacts of {total[0]} bytes in one command exceed "
            f"CLAIM_CHECK_MAX_BYTES={max_bytes}",
            code="PAYLOAD_TOO_LARGE",
            details={"field": key, "size": total[0], "limit": max_bytes},
        )
    got = await store.get(artifact_id)
    if got is None:
        raise NotFoundError(
            f"field {key!r}: artifact {shown} not found (unknown or expired)",
            code="ARTIFACT_NOT_FOUND",
            details={"field": key, "artifact_id": shown},
        )
    data = got[1]
    if key.endswith("_base64"):
        return base64.b64encode(data).decode("ascii")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError(
            f"field {key!r} takes text, but artifact {shown} is not UTF-8 "
            "(binary content goes in a `*_base64` field)",
            details={"field": key, "artifact_id": shown},
        ) from None


def result_artifact_id(command_id: str) -> str:
    """One id per command: a re-run replaces its by-reference result instead of adding one."""
    return "r" + hashlib.sha256(command_id.encode()).hexdigest()[:40]


async def store_result_value(
    value: Any, store: ArtifactStore, *, command_id: str, command_type: str
) -> dict[str, Any]:
    """Put a result value in the store as JSON; return the reference that replaces it."""
    data = orjson.dumps(value)
    info = await store.put(
        data,
        content_type=JSON,
        filename=f"{command_type}.result.json",
        artifact_id=result_artifact_id(command_id),
        metadata={"command_id": command_id[:200], "command_type": command_type},
    )
    return reference(info)


# -- the client side ---------------------------------------------------------------------


async def offload_payload(
    payload: dict[str, Any],
    store: ArtifactStore,
    *,
    fits: Callable[[dict[str, Any]], bool],
    max_bytes: int,
) -> tuple[dict[str, Any], list[str]]:
    """Move the largest string fields to the store until ``fits(payload)``.

    Returns the new payload and the paths of the fields moved. Raises
    ``PayloadTooLargeError`` if no such move makes it fit.
    """
    candidates: list[tuple[int, tuple[Any, ...]]] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(payload, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict):
            stack.extend((v, (*path, k)) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, (*path, i)) for i, v in enumerate(item))
        elif isinstance(item, str) and len(item) >= MIN_OFFLOAD_CHARS:
            candidates.append((len(item), path))
    candidates.sort(key=lambda c: -c[0])
    out: Any = orjson.loads(orjson.dumps(payload))  # a deep copy the caller does not share
    moved: list[str] = []
    for _, path in candidates:
        if fits(out):
            break
        parent = out
        for step in path[:-1]:
            parent = parent[step]
        key = _field_name(path)
        text: str = parent[path[-1]]
        blob = _blob_of(text, key)
        if blob is None:
            continue
        if len(blob) > max_bytes:
            raise PayloadTooLargeError(
                f"field {_dotted(path)!r} of {len(blob)} bytes exceeds "
                f"CLAIM_CHECK_MAX_BYTES={max_bytes}",
                details={"field": _dotted(path), "size": len(blob), "limit": max_bytes},
            )
        info = await store.put(
            blob,
            content_type="application/octet-stream" if key.endswith("_base64") else TEXT,
            filename=key or "payload",
        )
        parent[path[-1]] = reference(info)
        moved.append(_dotted(path))
    return out, moved


def _blob_of(text: str, key: str) -> bytes | None:
    if key.endswith("_base64"):
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            return None  # not base64: leave it inline (the worker will say so)
    return text.encode("utf-8", "surrogatepass")


def _field_name(path: tuple[Any, ...]) -> str:
    for step in reversed(path):
        if isinstance(step, str):
            return step
    return ""


def _dotted(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path)


async def load_result_value(ref: dict[str, Any], store: ArtifactStore) -> Any:
    """The value of a by-reference result."""
    got = await store.get(str(ref["artifact_id"]))
    if got is None:
        raise NotFoundError(
            f"result artifact {str(ref['artifact_id'])[:40]} not found (unknown or expired)",
            code="ARTIFACT_NOT_FOUND",
        )
    return orjson.loads(got[1])


def make_store(settings: Any) -> ArtifactStore:
    """The artifact store the settings choose (ARTIFACT_STORE=filesystem|s3)."""
    if settings.artifact_store == "s3":
        from enginedge_streams.adapters.s3_artifact_store import S3ArtifactStore

        def secret(value: Any) -> str | None:
            return value.get_secret_value() if value is not None else None

        return S3ArtifactStore(
            bucket=settings.s3_bucket,
            prefix=settings.s3_prefix,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=secret(settings.aws_access_key_id),
            secret_access_key=secret(settings.aws_secret_access_key),
            retention_hours=settings.artifact_store_retention_hours,
            max_total_bytes=settings.artifact_store_max_total_mb * 1024 * 1024,
        )
    from enginedge_streams.adapters.filesystem_artifact_store import FilesystemArtifactStore

    return FilesystemArtifactStore(
        settings.artifact_store_dir,
        retention_hours=settings.artifact_store_retention_hours,
        max_total_bytes=settings.artifact_store_max_total_mb * 1024 * 1024,
    )

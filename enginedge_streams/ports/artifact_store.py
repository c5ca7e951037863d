"""Where workers keep the files they produce (PDFs, images...) for later download.

Shared by every worker: the LaTeX worker stores compiled PDFs, others may
store reports or exports. Artifacts are immutable blobs with metadata, kept
for a retention period; ``put`` with an explicit id overwrites, so a command
that runs again (at-least-once delivery) replaces its artifact instead of
leaving a second one.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, Required, TypedDict, Unpack

from enginedge_streams.errors import ValidationError

#: Artifact ids are path- and URL-safe by construction (they name files).
ARTIFACT_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{7,127}$")


def valid_artifact_id(artifact_id: str) -> bool:
    return bool(ARTIFACT_ID_RE.fullmatch(artifact_id))


@dataclass(frozen=True)
class ArtifactInfo:
    artifact_id: str
    size: int
    sha256: str
    content_type: str
    filename: str
    created_at: datetime
    expires_at: datetime | None
    metadata: Mapping[str, str] = field(default_factory=dict)

    def view(self) -> dict[str, Any]:
        return {
            "artifact_id": self.artifact_id,
            "size": self.size,
            "sha256": self.sha256,
            "content_type": self.content_type,
            "filename": self.filename,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "metadata": dict(self.metadata),
        }


def new_artifact_info(
    data: bytes,
    *,
    content_type: str,
    filename: str,
    artifact_id: str | None,
    metadata: Mapping[str, str] | None,
    now: float,
    retention_seconds: float,
) -> ArtifactInfo:
    """What ``put`` stores about ``data`` (a new id unless given; expiring after
    ``retention_seconds`` when positive): the same for every artifact store."""
    artifact_id = f"a{uuid.uuid4().hex}" if artifact_id is None else artifact_id
    if not valid_artifact_id(artifact_id):
        raise ValidationError(f"invalid artifact id {artifact_id!r}")
    return ArtifactInfo(
        artifact_id=artifact_id,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content_type=content_type,
        filename=filename,
        created_at=datetime.fromtimestamp(now, UTC),
        expires_at=datetime.fromtimestamp(now + retention_seconds, UTC)
        if retention_seconds > 0
        else None,
        metadata=dict(metadata or {}),
    )


class PutOptions(TypedDict, total=False):
    """The keyword arguments of ``ArtifactStore.put``."""

    content_type: Required[str]
    filename: Required[str]
    artifact_id: str | None  # None (default): a new id
    metadata: Mapping[str, str] | None


class ArtifactStore(Protocol):
    async def put(self, data: bytes, **options: Unpack[PutOptions]) -> ArtifactInfo:
        """Store ``data``; a given ``artifact_id`` is overwritten (idempotent re-runs)."""
        ...

    async def get(self, artifact_id: str) -> tuple[ArtifactInfo, bytes] | None:
        """The artifact and its bytes, or None if unknown, expired or the id is invalid."""
        ...

    async def info(self, artifact_id: str) -> ArtifactInfo | None: ...

    async def delete(self, artifact_id: str) -> bool: ...

    async def purge(self) -> int:
        """Remove expired artifacts (and the oldest ones past the size budget); count removed."""
        ...

    async def ready(self) -> tuple[bool, str]: ...

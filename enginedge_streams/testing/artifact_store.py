"""An in-memory ``ArtifactStore`` with the filesystem adapter's behaviour (for unit tests)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from enginedge_streams.ports.artifact_store import (
    ArtifactInfo,
    new_artifact_info,
)


class InMemoryArtifactStore:
    def __init__(
        self,
        *,
        retention_hours: float = 24.0,
        max_total_bytes: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.retention_seconds = retention_hours * 3600.0
        self.max_total_bytes = max_total_bytes
        self.clock = clock
        self.items: dict[str, tuple[ArtifactInfo, bytes]] = {}

    async def put(
        self,
        data: bytes,
        *,
        content_type: str,
        filename: str,
        artifact_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ArtifactInfo:
        info = new_artifact_info(
            data,
            content_type=content_type,
            filename=filename,
            artifact_id=artifact_id,
            metadata=metadata,
            now=self.clock(),
            retention_seconds=self.retention_seconds,
        )
        artifact_id = info.artifact_id
        self.items[artifact_id] = (info, bytes(data))
        return info

    def _live(self, artifact_id: str) -> tuple[ArtifactInfo, bytes] | None:
        item = self.items.get(artifact_id)
        if item is None:
            return None
        expires = item[0].expires_at
        if expires is not None and expires.timestamp() <= self.clock():
            return None
        return item

    async def get(self, artifact_id: str) -> tuple[ArtifactInfo, bytes] | None:
        return self._live(artifact_id)

    async def info(self, artifact_id: str) -> ArtifactInfo | None:
        item = self._live(artifact_id)
        return item[0] if item else None

    async def delete(self, artifact_id: str) -> bool:
        return self.items.pop(artifact_id, None) is not None

    async def purge(self) -> int:
        removed = 0
        for artifact_id in list(self.items):
            if self._live(artifact_id) is None:
                del self.items[artifact_id]
                removed += 1
        if self.max_total_bytes > 0:
            total = sum(info.size for info, _ in self.items.values())
            for info, _ in sorted(self.items.values(), key=lambda item: item[0].created_at):
                if total <= self.max_total_bytes:
                    break
                del self.items[info.artifact_id]
                total -= info.size
                removed += 1
        return removed

    async def ready(self) -> tuple[bool, str]:
        return True, "in memory"

"""An in-memory ``ArtifactStore`` with the filesystem adapter's behaviour (for unit tests)."""

from __future__ import annotations

import time
from collections.abc import Callable

from enginedge_streams.adapters.artifact_store_base import ArtifactStoreBase
from enginedge_streams.ports.artifact_store import (
    ArtifactInfo,
)


class InMemoryArtifactStore(ArtifactStoreBase):
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

    async def _store(self, info: ArtifactInfo, data: bytes) -> None:
        self.items[info.artifact_id] = (info, bytes(data))

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

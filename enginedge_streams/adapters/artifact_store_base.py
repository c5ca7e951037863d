"""What every ``ArtifactStore`` does the same way: ``put`` makes the artifact's id, digest
and expiry; each store only writes the bytes (``_store``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from enginedge_streams.ports.artifact_store import ArtifactInfo, new_artifact_info


class ArtifactStoreBase:
    clock: Callable[[], float]
    retention_seconds: float

    async def put(
        self,
        data: bytes,
        *,
        content_type: str,
        filename: str,
        artifact_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ArtifactInfo:
        """Store ``data``; a given ``artifact_id`` is overwritten (idempotent re-runs)."""
        info = new_artifact_info(
            data,
            content_type=content_type,
            filename=filename,
            artifact_id=artifact_id,
            metadata=metadata,
            now=self.clock(),
            retention_seconds=self.retention_seconds,
        )
        await self._store(info, data)
        return info

    async def _store(self, info: ArtifactInfo, data: bytes) -> None:
        """Write the artifact's bytes and metadata (overwriting one with the same id)."""
        raise NotImplementedError

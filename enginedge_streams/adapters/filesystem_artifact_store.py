"""The ``ArtifactStore`` port on a local (or mounted, shared) directory.

Layout: ``<root>/<id[:2]>/<id>.blob`` with its metadata beside it in
``<id>.json``. Writes go to a temporary file first and are renamed into
place (blob before metadata), so a reader never sees a half-written
artifact and a crash leaves at most an orphan blob that ``purge`` removes.
Expired artifacts are invisible at once and deleted by ``purge``, which runs
at start and then periodically; a total size budget evicts the oldest first.
File I/O runs in threads so the event loop never blocks on the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from enginedge_streams.adapters.artifact_store_base import ArtifactStoreBase
from enginedge_streams.ports.artifact_store import (
    ArtifactInfo,
    valid_artifact_id,
)
from enginedge_streams.tasks import cancel_and_wait

log = logging.getLogger("enginedge.artifacts")


class FilesystemArtifactStore(ArtifactStoreBase):
    def __init__(
        self,
        root: Path,
        *,
        retention_hours: float,
        max_total_bytes: int = 0,
        purge_interval_seconds: float = 600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = Path(root)
        self.retention_seconds = retention_hours * 3600.0
        self.max_total_bytes = max_total_bytes  # 0: no size budget
        self.purge_interval = purge_interval_seconds
        self.clock = clock
        self._task: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)
        await self.purge()
        if self._task is None and self.purge_interval > 0:
            self._task = asyncio.create_task(self._purge_loop())

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def _purge_loop(self) -> None:
        while True:
            await asyncio.sleep(self.purge_interval)
            try:
                await self.purge()
            except Exception:
                log.exception("artifact purge failed")

    async def ready(self) -> tuple[bool, str]:
        ok = await asyncio.to_thread(lambda: self.root.is_dir() and os.access(self.root, os.W_OK))
        return ok, f"{self.root} {'writable' if ok else 'not writable'}"

    # -- the port ----------------------------------------------------------------------

    async def _store(self, info: ArtifactInfo, data: bytes) -> None:
        await asyncio.to_thread(self._write, info, data)

    async def get(self, artifact_id: str) -> tuple[ArtifactInfo, bytes] | None:
        info = await self.info(artifact_id)
        if info is None:
            return None
        try:
            data = await asyncio.to_thread(self._blob(artifact_id).read_bytes)
        except FileNotFoundError:
            return None
        if len(data) != info.size:  # replaced concurrently or damaged: never serve a mismatch
            return None
        return info, data

    async def info(self, artifact_id: str) -> ArtifactInfo | None:
        if not valid_artifact_id(artifact_id):
            return None
        info = await asyncio.to_thread(self._read_meta, self._meta(artifact_id))
        if info is None or self._expired(info):
            return None
        return info

    async def delete(self, artifact_id: str) -> bool:
        if not valid_artifact_id(artifact_id):
            return False
        return await asyncio.to_thread(self._remove, artifact_id)

    async def purge(self) -> int:
        return await asyncio.to_thread(self._purge)

    # -- files -------------------------------------------------------------------------

    def _dir(self, artifact_id: str) -> Path:
        return self.root / artifact_id[:2]

    def _blob(self, artifact_id: str) -> Path:
        return self._dir(artifact_id) / f"{artifact_id}.blob"

    def _meta(self, artifact_id: str) -> Path:
        return self._dir(artifact_id) / f"{artifact_id}.json"

    def _expired(self, info: ArtifactInfo) -> bool:
        return info.expires_at is not None and info.expires_at.timestamp() <= self.clock()

    def _atomic_write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _write(self, info: ArtifactInfo, data: bytes) -> None:
        meta = {
            "artifact_id": info.artifact_id,
            "size": info.size,
            "sha256": info.sha256,
            "content_type": info.content_type,
            "filename": info.filename,
            "created_at": info.created_at.timestamp(),
            "expires_at": info.expires_at.timestamp() if info.expires_at else None,
            "metadata": dict(info.metadata),
        }
        self._atomic_write(self._blob(info.artifact_id), data)
        self._atomic_write(self._meta(info.artifact_id), json.dumps(meta).encode())

    @staticmethod
    def _read_meta(path: Path) -> ArtifactInfo | None:
        try:
            raw = json.loads(path.read_bytes())
            expires = raw.get("expires_at")
            return ArtifactInfo(
                artifact_id=str(raw["artifact_id"]),
                size=int(raw["size"]),
                sha256=str(raw["sha256"]),
                content_type=str(raw["content_type"]),
                filename=str(raw["filename"]),
                created_at=datetime.fromtimestamp(float(raw["created_at"]), UTC),
                expires_at=datetime.fromtimestamp(float(expires), UTC) if expires else None,
                metadata={str(k): str(v) for k, v in dict(raw.get("metadata") or {}).items()},
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _remove(self, artifact_id: str) -> bool:
        removed = False
        for path in (self._meta(artifact_id), self._blob(artifact_id)):
            try:
                path.unlink()
                removed = True
            except FileNotFoundError:
                pass
        return removed

    def _sweep_leftover(self, path: Path, now: float) -> None:
        """Remove a temporary file or orphan blob left by a crash (older than a minute)."""
        with contextlib.suppress(OSError):
            if now - path.stat().st_mtime > 60:
                path.unlink()

    def _purge(self) -> int:
        if not self.root.is_dir():
            return 0
        removed = 0
        live: list[tuple[float, int, str]] = []
        now = self.clock()
        for path in self.root.glob("*/*"):
            name = path.name
            if name.startswith(".tmp-") or (
                name.endswith(".blob") and not path.with_suffix(".json").exists()
            ):
                self._sweep_leftover(path, now)
                continue
            info = self._read_meta(path) if name.endswith(".json") else None
            if info is None:
                continue
            if self._expired(info):
                removed += self._remove(info.artifact_id)
            else:
                live.append((info.created_at.timestamp(), info.size, info.artifact_id))
        if self.max_total_bytes > 0:
            total = sum(size for _, size, _ in live)
            for _, size, artifact_id in sorted(live):
                if total <= self.max_total_bytes:
                    break
                removed += self._remove(artifact_id)
                total -= size
        if removed:
            log.info("purged %d artifacts", removed)
        return removed

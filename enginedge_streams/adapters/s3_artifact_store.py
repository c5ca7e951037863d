"""The ``ArtifactStore`` port on an S3-compatible object store (AWS S3, MinIO, Ceph...).

In a cluster this is the store that makes claim checks work across replicas:
a client or one worker replica writes a blob, and whichever replica owns the
command (or a client fetching a by-reference result) reads it. Objects are
``<prefix><artifact_id>``; the artifact's metadata travels as S3 user
metadata (``x-amz-meta-*``), so one request stores both and a reader never
sees a blob without its metadata. Expiry is checked on every read (an expired
artifact is invisible at once); ``purge`` deletes expired objects and, with a
size budget, the oldest ones. A bucket lifecycle rule is the cheaper way to
expire objects in production; ``purge`` keeps the behaviour of the other
adapters without one.

The SDK is ``aiobotocore``, botocore's asyncio port (a core dependency: every worker image
can use it); the client is created on first use, never in the constructor.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import urllib.parse
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from enginedge_streams.adapters.artifact_store_base import ArtifactStoreBase
from enginedge_streams.errors import ConfigError, DependencyUnavailableError
from enginedge_streams.ports.artifact_store import (
    ArtifactInfo,
    valid_artifact_id,
)

log = logging.getLogger("enginedge.artifacts.s3")

_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}


class S3ArtifactStore(ArtifactStoreBase):
    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "artifacts/",
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        retention_hours: float = 72.0,
        max_total_bytes: int = 0,
        create_bucket: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint_url = endpoint_url
        self.region = region
        self._credentials = (access_key_id, secret_access_key)
        self.retention_seconds = retention_hours * 3600.0
        self.max_total_bytes = max_total_bytes
        self.create_bucket = create_bucket
        self.clock = clock
        self._client_cm: Any = None
        self._client: Any = None
        self._bucket_ready = not create_bucket
        # One client, and the bucket checked until it succeeds: a caller cancelled midway
        # (a readiness probe's timeout during the first, slow client creation) must not
        # leave a client whose bucket was never created.
        self._lock = asyncio.Lock()

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        await self._s3()

    async def stop(self) -> None:
        if self._client_cm is not None:
            cm, self._client_cm, self._client = self._client_cm, None, None
            with contextlib.suppress(Exception):
                await cm.__aexit__(None, None, None)

    async def _s3(self) -> Any:
        async with self._lock:
            if self._client is None:
                self._client_cm, self._client = await self._connect()
            if not self._bucket_ready:
                self._bucket_ready = await self._ensure_bucket(self._client)
            return self._client

    async def _connect(self) -> tuple[Any, Any]:
        try:
            from aiobotocore.session import get_session
        except ImportError:  # pragma: no cover - an install without the core dependencies
            raise ConfigError(
                "ARTIFACT_STORE=s3 needs aiobotocore: pip install aiobotocore"
            ) from None
        from botocore.config import Config

        key_id, secret = self._credentials
        cm = get_session().create_client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            # Fail fast when the store is down (readiness probes, commands with
            # deadlines); the error policy retries the command itself.
            config=Config(
                retries={"max_attempts": 2, "mode": "standard"},
                connect_timeout=3,
                read_timeout=60,
            ),
        )
        return cm, await cm.__aenter__()

    async def _ensure_bucket(self, client: Any) -> bool:
        """Create the bucket if it is missing; whether it is known to exist now."""
        try:
            await client.head_bucket(Bucket=self.bucket)
            return True
        except Exception as exc:
            if _code(exc) not in _MISSING:
                log.warning("cannot check bucket %s: %s", self.bucket, exc)
                return False
            try:
                if self.region == "us-east-1":
                    await client.create_bucket(Bucket=self.bucket)
                else:
                    await client.create_bucket(
                        Bucket=self.bucket,
                        CreateBucketConfiguration={"LocationConstraint": self.region},
                    )
            except Exception as create_exc:
                if _code(create_exc) in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    return True  # another replica created it meanwhile
                log.warning("cannot create bucket %s: %s", self.bucket, create_exc)
                return False
            return True

    async def ready(self) -> tuple[bool, str]:
        try:
            client = await self._s3()
            await client.head_bucket(Bucket=self.bucket)
        except Exception as exc:
            return False, f"s3://{self.bucket} unreachable: {type(exc).__name__}"
        return True, f"s3://{self.bucket}/{self.prefix} reachable"

    # -- the port ----------------------------------------------------------------------

    async def _store(self, info: ArtifactInfo, data: bytes) -> None:
        artifact_id = info.artifact_id
        client = await self._s3()
        try:
            await client.put_object(
                Bucket=self.bucket,
                Key=self._key(artifact_id),
                Body=data,
                ContentType=info.content_type or "application/octet-stream",
                Metadata=_to_s3_meta(info),
            )
        except Exception as exc:
            raise DependencyUnavailableError(
                f"artifact store s3://{self.bucket} refused the write: {type(exc).__name__}"
            ) from exc

    async def get(self, artifact_id: str) -> tuple[ArtifactInfo, bytes] | None:
        if not valid_artifact_id(artifact_id):
            return None
        obj = await self._object("get_object", self._key(artifact_id))
        if obj is None:
            return None
        async with obj["Body"] as body:
            data = await body.read()
        info = _from_s3_meta(artifact_id, obj)
        if info is None or self._expired(info) or len(data) != info.size:
            return None
        return info, data

    async def info(self, artifact_id: str) -> ArtifactInfo | None:
        if not valid_artifact_id(artifact_id):
            return None
        head = await self._head(self._key(artifact_id))
        if head is None:
            return None
        info = _from_s3_meta(artifact_id, head)
        return None if info is None or self._expired(info) else info

    async def delete(self, artifact_id: str) -> bool:
        if not valid_artifact_id(artifact_id):
            return False
        key = self._key(artifact_id)
        if await self._head(key) is None:
            return False
        client = await self._s3()
        await client.delete_object(Bucket=self.bucket, Key=key)
        return True

    async def purge(self) -> int:
        client = await self._s3()
        live: list[tuple[float, int, str]] = []
        removed = 0
        paginator = client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                key = str(item["Key"])
                artifact_id = key[len(self.prefix) :]
                head = await self._head(key)
                info = _from_s3_meta(artifact_id, head) if head is not None else None
                if info is None:
                    continue
                if self._expired(info):
                    await client.delete_object(Bucket=self.bucket, Key=key)
                    removed += 1
                else:
                    live.append((info.created_at.timestamp(), info.size, key))
        if self.max_total_bytes > 0:
            total = sum(size for _, size, _ in live)
            for _, size, key in sorted(live):
                if total <= self.max_total_bytes:
                    break
                await client.delete_object(Bucket=self.bucket, Key=key)
                total -= size
                removed += 1
        if removed:
            log.info("purged %d artifacts from s3://%s/%s", removed, self.bucket, self.prefix)
        return removed

    # -- helpers -----------------------------------------------------------------------

    def _key(self, artifact_id: str) -> str:
        return f"{self.prefix}{artifact_id}"

    def _expired(self, info: ArtifactInfo) -> bool:
        return info.expires_at is not None and info.expires_at.timestamp() <= self.clock()

    async def _head(self, key: str) -> dict[str, Any] | None:
        return await self._object("head_object", key)

    async def _object(self, operation: str, key: str) -> dict[str, Any] | None:
        """``get_object``/``head_object`` of ``key``: None when it is missing."""
        client = await self._s3()
        try:
            out: dict[str, Any] = await getattr(client, operation)(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if _code(exc) in _MISSING:
                return None
            raise DependencyUnavailableError(
                f"artifact store s3://{self.bucket} unreachable: {type(exc).__name__}"
            ) from exc
        return out


def _code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _to_s3_meta(info: ArtifactInfo) -> dict[str, str]:
    """User metadata is ASCII on the wire: text fields are percent-encoded."""
    return {
        "sha256": info.sha256,
        "size": str(info.size),
        "filename": urllib.parse.quote(info.filename, safe=""),
        "created-at": repr(info.created_at.timestamp()),
        "expires-at": repr(info.expires_at.timestamp()) if info.expires_at else "",
        "meta": urllib.parse.quote(json.dumps(dict(info.metadata), sort_keys=True), safe=""),
    }


def _from_s3_meta(artifact_id: str, obj: Mapping[str, Any]) -> ArtifactInfo | None:
    meta = {str(k).lower(): str(v) for k, v in dict(obj.get("Metadata") or {}).items()}
    try:
        expires = meta.get("expires-at", "")
        extra = json.loads(urllib.parse.unquote(meta.get("meta", "%7B%7D")))
        return ArtifactInfo(
            artifact_id=artifact_id,
            size=int(meta["size"]),
            sha256=meta["sha256"],
            content_type=str(obj.get("ContentType") or "application/octet-stream"),
            filename=urllib.parse.unquote(meta.get("filename", "")),
            created_at=datetime.fromtimestamp(float(meta["created-at"]), UTC),
            expires_at=datetime.fromtimestamp(float(expires), UTC) if expires else None,
            metadata={str(k): str(v) for k, v in dict(extra).items()},
        )
    except (KeyError, ValueError, TypeError):
        return None  # not written by this adapter

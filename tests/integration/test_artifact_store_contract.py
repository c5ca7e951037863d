"""One contract for every ``ArtifactStore`` adapter: in-memory, filesystem and S3.

The S3 adapter runs against a real S3-protocol server (moto's server on
127.0.0.1, started here), through aiobotocore and real HTTP requests.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from enginedge_streams.adapters.filesystem_artifact_store import FilesystemArtifactStore
from enginedge_streams.adapters.s3_artifact_store import S3ArtifactStore
from enginedge_streams.errors import ValidationError
from enginedge_streams.testing.artifact_store import InMemoryArtifactStore
from tests.support.s3_server import ACCESS_KEY, SECRET_KEY, s3_server


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture(params=["memory", "filesystem", "s3"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, s3_endpoint: str
) -> AsyncIterator[tuple[Any, Clock]]:
    clock = Clock()
    kind = request.param
    adapter: Any
    if kind == "memory":
        adapter = InMemoryArtifactStore(retention_hours=1.0, clock=clock)
    elif kind == "filesystem":
        adapter = FilesystemArtifactStore(
            tmp_path / "artifacts", retention_hours=1.0, purge_interval_seconds=0, clock=clock
        )
    else:
        adapter = S3ArtifactStore(
            bucket=f"b{uuid.uuid4().hex[:12]}",
            endpoint_url=s3_endpoint,
            access_key_id=ACCESS_KEY,
            secret_access_key=SECRET_KEY,
            retention_hours=1.0,
            clock=clock,
        )
    if hasattr(adapter, "start"):
        await adapter.start()
    yield adapter, clock
    if hasattr(adapter, "stop"):
        await adapter.stop()


async def test_put_then_get_returns_the_same_bytes_and_metadata(store):
    adapter, _ = store
    data = bytes(range(256)) * 40_000  # 10 MB of every byte value, bigger than a Kafka record
    info = await adapter.put(
        data,
        content_type="application/pdf",
        filename="résumé final.pdf",
        metadata={"command_id": "c-1", "note": "ünïcode & spaces"},
    )
    got = await adapter.get(info.artifact_id)
    assert got is not None
    got_info, got_data = got
    assert got_data == data
    assert got_info.size == len(data) == info.size
    assert got_info.sha256 == info.sha256
    assert got_info.content_type == "application/pdf"
    assert got_info.filename == "résumé final.pdf"
    assert dict(got_info.metadata) == {"command_id": "c-1", "note": "ünïcode & spaces"}
    assert got_info.expires_at is not None and got_info.expires_at > got_info.created_at
    assert (await adapter.info(info.artifact_id)) == got_info


async def test_an_empty_blob_round_trips(store):
    adapter, _ = store
    info = await adapter.put(b"", content_type="text/plain", filename="empty.txt")
    got = await adapter.get(info.artifact_id)
    assert got is not None and got[1] == b"" and got[0].size == 0


async def test_put_with_an_id_overwrites(store):
    adapter, _ = store
    await adapter.put(b"first", content_type="text/plain", filename="a", artifact_id="res-0001")
    await adapter.put(b"second!", content_type="text/csv", filename="b", artifact_id="res-0001")
    got = await adapter.get("res-0001")
    assert got is not None
    assert got[1] == b"second!" and got[0].content_type == "text/csv" and got[0].size == 7


async def test_unknown_and_invalid_ids(store):
    adapter, _ = store
    assert await adapter.get("a" + "0" * 31) is None
    assert await adapter.info("a" + "0" * 31) is None
    for bad in ("../../etc/passwd", "short", "a/b/c/d/e/f/g", ""):
        assert await adapter.get(bad) is None
        assert await adapter.delete(bad) is False
    with pytest.raises(ValidationError):
        await adapter.put(b"x", content_type="text/plain", filename="x", artifact_id="../evil")


async def test_delete(store):
    adapter, _ = store
    info = await adapter.put(b"bye", content_type="text/plain", filename="x")
    assert await adapter.delete(info.artifact_id) is True
    assert await adapter.get(info.artifact_id) is None
    assert await adapter.delete(info.artifact_id) is False


async def test_expired_artifacts_are_invisible_then_purged(store):
    adapter, clock = store
    old = await adapter.put(b"old", content_type="text/plain", filename="old")
    clock.now += 1800
    young = await adapter.put(b"young", content_type="text/plain", filename="young")
    clock.now += 1801  # old is 1 h + 1 s old, young half an hour
    assert await adapter.get(old.artifact_id) is None
    assert await adapter.info(old.artifact_id) is None
    assert (await adapter.get(young.artifact_id)) is not None
    assert await adapter.purge() == 1
    assert (await adapter.get(young.artifact_id)) is not None


async def test_ready(store):
    adapter, _ = store
    ok, detail = await adapter.ready()
    assert ok, detail


async def test_s3_store_is_shared_between_two_clients(s3_endpoint):
    """What a cluster relies on: a blob one replica (or a client) wrote, another one reads."""
    bucket = f"b{uuid.uuid4().hex[:12]}"
    kwargs = dict(
        bucket=bucket,
        endpoint_url=s3_endpoint,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
    )
    writer, reader = S3ArtifactStore(**kwargs), S3ArtifactStore(**kwargs)
    try:
        info = await writer.put(b"claim check", content_type="text/plain", filename="c.txt")
        got = await reader.get(info.artifact_id)
        assert got is not None and got[1] == b"claim check"
    finally:
        await writer.stop()
        await reader.stop()


async def test_s3_store_unreachable_is_not_ready_and_fails_retryably():
    from enginedge_streams.errors import DependencyUnavailableError
    from tests.support.s3_server import free_port

    adapter = S3ArtifactStore(
        bucket="nowhere",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
        create_bucket=False,
    )
    try:
        ok, detail = await adapter.ready()
        assert not ok and "unreachable" in detail
        with pytest.raises(DependencyUnavailableError):
            await adapter.put(b"x", content_type="text/plain", filename="x")
    finally:
        await adapter.stop()

"""The ArtifactStore contract, run on the filesystem adapter and the in-memory fake."""

from __future__ import annotations

import hashlib
import json

import pytest

from enginedge_streams.adapters.filesystem_artifact_store import FilesystemArtifactStore
from enginedge_streams.errors import ValidationError
from enginedge_streams.testing.artifact_store import InMemoryArtifactStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["filesystem", "memory"])
async def make(request, tmp_path):
    stores = []

    async def factory(**kw):
        clock = kw.pop("clock", Clock())
        if request.param == "filesystem":
            s = FilesystemArtifactStore(tmp_path / "a", purge_interval_seconds=0, clock=clock, **kw)
            await s.start()
        else:
            s = InMemoryArtifactStore(clock=clock, **kw)
        stores.append(s)
        return s

    yield factory
    for s in stores:
        if hasattr(s, "stop"):
            await s.stop()


async def test_put_get_info_delete(make):
    store = await make(retention_hours=1)
    info = await store.put(
        b"%PDF-1.5 data",
        content_type="application/pdf",
        filename="a.pdf",
        metadata={"engine": "pdflatex"},
    )
    assert info.sha256 == hashlib.sha256(b"%PDF-1.5 data").hexdigest() and info.size == 13
    got_info, data = await store.get(info.artifact_id)
    assert data == b"%PDF-1.5 data" and got_info == info
    assert (await store.info(info.artifact_id)).metadata == {"engine": "pdflatex"}
    assert await store.delete(info.artifact_id) is True
    assert (
        await store.get(info.artifact_id) is None and await store.delete(info.artifact_id) is False
    )


async def test_explicit_id_overwrites(make):
    store = await make(retention_hours=1)
    await store.put(b"one", content_type="text/plain", filename="x", artifact_id="pdf-fixed-0001")
    await store.put(b"two!", content_type="text/plain", filename="x", artifact_id="pdf-fixed-0001")
    info, data = await store.get("pdf-fixed-0001")
    assert data == b"two!" and info.size == 4


@pytest.mark.parametrize("bad", ["../../etc/passwd", "a", "x/y-z-12345", ".hidden-12345", ""])
async def test_invalid_ids_are_refused(make, bad):
    store = await make(retention_hours=1)
    with pytest.raises(ValidationError):
        await store.put(b"x", content_type="text/plain", filename="x", artifact_id=bad)
    assert await store.get(bad) is None and await store.info(bad) is None


async def test_retention_and_size_budget(make):
    clock = Clock()
    store = await make(retention_hours=1, max_total_bytes=10, clock=clock)
    old = await store.put(b"12345", content_type="t", filename="x")
    clock.now += 10
    mid = await store.put(b"12345", content_type="t", filename="x")
    clock.now += 10
    new = await store.put(b"12345", content_type="t", filename="x")
    assert await store.purge() == 1  # 15 bytes > 10: the oldest goes
    assert await store.get(old.artifact_id) is None
    assert await store.get(mid.artifact_id) is not None
    clock.now += 3595  # t=3615: mid (expires 3610) is past its hour, new (3620) is not
    assert await store.get(mid.artifact_id) is None  # expired: invisible at once
    assert await store.purge() == 1
    assert await store.get(new.artifact_id) is not None
    assert (await store.ready())[0]


async def test_filesystem_layout_survives_restart_and_cleans_leftovers(tmp_path):
    clock = Clock()
    root = tmp_path / "store"
    store = FilesystemArtifactStore(root, retention_hours=1, purge_interval_seconds=0, clock=clock)
    await store.start()
    info = await store.put(b"pdf", content_type="application/pdf", filename="a.pdf")
    meta = json.loads((root / info.artifact_id[:2] / f"{info.artifact_id}.json").read_text())
    assert meta["sha256"] == info.sha256
    (root / "zz").mkdir()
    (root / "zz" / ".tmp-crashed").write_bytes(b"partial")
    (root / "zz" / "zzorphan-0001.blob").write_bytes(b"no meta")
    clock.now += 120
    again = FilesystemArtifactStore(root, retention_hours=1, purge_interval_seconds=0, clock=clock)
    await again.start()  # purges at start
    assert (await again.get(info.artifact_id))[1] == b"pdf"
    assert list((root / "zz").iterdir()) == []

"""The contract every ``VectorStore`` adapter passes (memory, pgvector, Weaviate, Pinecone).

Used by tests/integration/test_data_processing_stores.py, parametrised over
store factories. Vectors come from the deterministic hashing embedder, so
"nearest" is predictable: texts sharing words are close.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from agents.data_processing.fakes import HashingEmbedder
from agents.data_processing.model import ChunkRecord, DocumentRecord

DIM = 64
EMB = HashingEmbedder(DIM)

DOCS = {
    "kafka": ["Kafka partitions are ordered logs", "Consumers commit offsets to Kafka"],
    "redis": ["Redis keeps keys in memory", "Redis eviction removes keys when memory is full"],
    "postgres": ["PostgreSQL stores rows in tables", "pgvector adds vector similarity search"],
}


def record(collection: str, doc_id: str, *, version: str = "v1", **meta: object) -> DocumentRecord:
    return DocumentRecord(
        document_id=doc_id,
        collection=collection,
        filename=f"{doc_id}.txt",
        format=str(meta.pop("format", "txt")),
        owner=meta.get("owner"),  # type: ignore[arg-type]
        metadata=dict(meta),
        pages=1,
        chunk_count=0,
        ocr_pages=int(meta.pop("ocr_pages", 0)),  # type: ignore[call-overload]
        bytes=100,
        sha256="0" * 64,
        embedding_model=EMB.model_name,
        version=version,
        created_at="2026-01-01T00:00:00+00:00",
    )


def chunks(doc: DocumentRecord, texts: list[str], **meta: object) -> list[ChunkRecord]:
    out = []
    offset = 0
    for i, text in enumerate(texts):
        out.append(
            ChunkRecord(
                chunk_id=f"{doc.document_id}#{i}",
                document_id=doc.document_id,
                collection=doc.collection,
                index=i,
                text=text,
                vector=EMB.vector(text).tolist(),
                start=offset,
                end=offset + len(text),
                page=i + 1,
                headings=["Guide", f"Part {i}"],
                metadata={**doc.metadata, **meta},
            )
        )
        offset += len(text) + 2
    return out


async def stream(
    *batches: list[ChunkRecord], fail: bool = False
) -> AsyncIterator[list[ChunkRecord]]:
    for batch in batches:
        await asyncio.sleep(0)
        yield batch
    if fail:
        raise RuntimeError("page 3 is corrupt")


async def put(store, collection: str, doc_id: str, texts: list[str], **meta: object) -> int:
    doc = record(collection, doc_id, **meta)
    items = chunks(doc, texts)
    half = len(items) // 2
    return await store.replace_document(doc, stream(items[:half], items[half:]))


def coll() -> str:
    return f"c{uuid.uuid4().hex[:10]}"


class VectorStoreContract:
    """Subclass and provide an async ``store`` fixture yielding a started store (dimension 64)."""

    keyword_search = True

    async def test_replace_then_get_document_and_chunks(self, store):
        c = coll()
        assert await put(store, c, "kafka", DOCS["kafka"], team="infra", format="md") == 2
        doc = await store.get_document(c, "kafka")
        assert doc is not None and doc.chunk_count == 2 and doc.format == "md"
        assert doc.metadata["team"] == "infra" and doc.filename == "kafka.txt"
        got = await store.get_chunks(c, "kafka", 10)
        assert [h.text for h in got] == DOCS["kafka"]
        assert [h.index for h in got] == [0, 1] and [h.page for h in got] == [1, 2]
        assert got[1].start == len(DOCS["kafka"][0]) + 2 and got[1].end > got[1].start
        assert got[0].headings == ["Guide", "Part 0"] and got[0].metadata["team"] == "infra"
        assert await store.get_document(c, "missing") is None
        assert await store.get_chunks(c, "missing", 10) == []

    async def test_vector_search_ranks_nearest_first(self, store):
        c = coll()
        for doc_id, texts in DOCS.items():
            await put(store, c, doc_id, texts)
        hits = await store.search_vector(c, EMB.vector("eviction removes full keys"), 3, {})
        assert hits[0].text == DOCS["redis"][1] and hits[0].document_id == "redis"
        assert len(hits) == 3 and hits[0].score >= hits[1].score >= hits[2].score
        exact = await store.search_vector(c, EMB.vector(DOCS["postgres"][0]), 1, {})
        assert exact[0].text == DOCS["postgres"][0] and exact[0].score == pytest.approx(
            1.0, abs=1e-3
        )
        assert await store.search_vector(coll(), EMB.vector("Redis"), 3, {}) == []

    async def test_filters_on_metadata_lists_and_document_id(self, store):
        c = coll()
        await put(store, c, "kafka", DOCS["kafka"], team="infra", tags=["streaming", "jvm"])
        await put(store, c, "redis", DOCS["redis"], team="cache", tags=["memory"])
        await put(store, c, "postgres", DOCS["postgres"], team="data", tags=["sql"])
        q = EMB.vector("keys memory partitions rows")
        only = await store.search_vector(c, q, 10, {"team": "cache"})
        assert {h.document_id for h in only} == {"redis"}
        either = await store.search_vector(c, q, 10, {"team": ["infra", "data"]})
        assert {h.document_id for h in either} == {"kafka", "postgres"}
        tagged = await store.search_vector(c, q, 10, {"tags": "jvm"})
        assert {h.document_id for h in tagged} == {"kafka"}
        by_id = await store.search_vector(c, q, 10, {"document_id": "postgres"})
        assert {h.document_id for h in by_id} == {"postgres"} and len(by_id) == 2
        assert await store.search_vector(c, q, 10, {"team": "nobody"}) == []

    async def test_collections_are_isolated(self, store):
        a, b = coll(), coll()
        await put(store, a, "same-id", DOCS["kafka"])
        await put(store, b, "same-id", DOCS["redis"][:1])
        assert (await store.get_document(a, "same-id")).chunk_count == 2
        assert (await store.get_document(b, "same-id")).chunk_count == 1
        hits = await store.search_vector(b, EMB.vector("Kafka partitions"), 10, {})
        assert [h.text for h in hits] == DOCS["redis"][:1]
        await store.delete_document(a, "same-id")
        assert await store.get_document(b, "same-id") is not None

    async def test_reingest_replaces_never_duplicates(self, store):
        c = coll()
        await put(store, c, "doc", ["old text about kafka", "old text about redis", "third old"])
        await put(store, c, "doc", ["new text about postgres"])
        doc = await store.get_document(c, "doc")
        assert doc.chunk_count == 1
        assert [h.text for h in await store.get_chunks(c, "doc", 10)] == ["new text about postgres"]
        hits = await store.search_vector(c, EMB.vector("old text about kafka"), 10, {})
        assert [h.text for h in hits] == ["new text about postgres"]
        stats = await store.collection_stats(c)
        assert stats.documents == 1 and stats.chunks == 1

    async def test_failed_stream_keeps_the_old_version_and_writes_nothing(self, store):
        c = coll()
        await put(store, c, "doc", DOCS["kafka"])
        doc = record(c, "doc", version="v2")
        new = chunks(doc, ["half written new page", "another new page"])
        with pytest.raises(RuntimeError, match="corrupt"):
            await store.replace_document(doc, stream(new[:1], new[1:], fail=True))
        assert [h.text for h in await store.get_chunks(c, "doc", 10)] == DOCS["kafka"]
        assert (await store.get_document(c, "doc")).version == "v1"
        hits = await store.search_vector(c, EMB.vector("half written new page"), 10, {})
        assert all("new page" not in h.text for h in hits)
        first = record(c, "fresh", version="v1")
        with pytest.raises(RuntimeError):
            await store.replace_document(first, stream(chunks(first, ["x y z"]), fail=True))
        assert await store.get_document(c, "fresh") is None
        assert await store.get_chunks(c, "fresh", 10) == []

    async def test_delete_removes_document_chunks_and_vectors(self, store):
        c = coll()
        await put(store, c, "kafka", DOCS["kafka"])
        await put(store, c, "redis", DOCS["redis"])
        assert await store.delete_document(c, "kafka") is True
        assert await store.get_document(c, "kafka") is None
        assert await store.get_chunks(c, "kafka", 10) == []
        hits = await store.search_vector(c, EMB.vector("Kafka partitions ordered logs"), 10, {})
        assert {h.document_id for h in hits} == {"redis"}
        assert await store.delete_document(c, "kafka") is False
        stats = await store.collection_stats(c)
        assert stats.documents == 1 and stats.chunks == 2

    async def test_keyword_search(self, store):
        if not self.keyword_search:
            pytest.skip("this store has no full-text search")
        c = coll()
        for doc_id, texts in DOCS.items():
            await put(store, c, doc_id, texts, team=doc_id)
        hits = await store.search_keyword(c, "eviction", 5, {})
        assert hits and hits[0].text == DOCS["redis"][1] and hits[0].score > 0
        assert all("eviction" in h.text.lower() for h in hits)
        assert await store.search_keyword(c, "zeppelin", 5, {}) == []
        multi = await store.search_keyword(c, "offsets tables", 5, {})
        assert {h.text for h in multi} == {DOCS["kafka"][1], DOCS["postgres"][0]}
        filtered = await store.search_keyword(c, "offsets tables", 5, {"team": "postgres"})
        assert [h.text for h in filtered] == [DOCS["postgres"][0]]

    async def test_collection_list_and_stats(self, store):
        c = coll()
        await put(store, c, "a", DOCS["kafka"], format="pdf", ocr_pages=2)
        await put(store, c, "b", DOCS["redis"], format="md")
        await put(store, c, "c", DOCS["postgres"][:1], format="md")
        stats = await store.collection_stats(c)
        assert (stats.documents, stats.chunks, stats.bytes, stats.ocr_pages) == (3, 5, 300, 2)
        assert stats.formats == {"md": 2, "pdf": 1} and stats.dimension == DIM
        names = [i.name for i in await store.list_collections()]
        assert c in names
        assert await store.collection_stats(coll()) is None

    async def test_concurrent_replaces_of_one_document_leave_one_version(self, store):
        c = coll()
        a = record(c, "doc", version="a")
        b = record(c, "doc", version="b")
        ca = chunks(a, [f"version a chunk {i}" for i in range(6)])
        cb = chunks(b, [f"version b chunk {i}" for i in range(3)])
        await asyncio.gather(
            store.replace_document(a, stream(ca[:3], ca[3:])),
            store.replace_document(b, stream(cb)),
        )
        got = await store.get_chunks(c, "doc", 20)
        versions = {h.text.split()[1] for h in got}
        assert len(versions) == 1 and len(got) in (3, 6)
        assert (await store.get_document(c, "doc")).chunk_count == len(got)

"""The ``VectorStore`` port on Pinecone, through the official ``pinecone`` SDK (async, REST).

One index (``PINECONE_INDEX_NAME``, dense, cosine, the embedder's dimension;
it must exist — its host is resolved with one describe call, or given as
``PINECONE_INDEX_HOST``). A collection is a namespace; the document registry
lives in the reserved namespace ``__documents__`` (one record per document,
a unit placeholder vector, the record as JSON metadata).

Chunk ids are ``<document>#<version>#<index>``. Replacement: upsert the new
version's chunks, switch the registry entry (the commit point), then delete
older chunks by metadata filter. Reads keep only chunks of the registered
version, so a half-written version is never visible; a failed stream deletes
what it wrote. Pinecone has no full-text index: keyword search is refused
(``KEYWORD_SEARCH_UNSUPPORTED``) and hybrid search falls back to vectors.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from agents.data_processing.collections import info_from_records, stats_of
from agents.data_processing.model import ChunkRecord, CollectionInfo, DocumentRecord, Hit
from enginedge_streams.errors import ConfigError, DependencyUnavailableError, PermanentError

REGISTRY = "__documents__"
PAGE = 100


def _meta_filter(key: str, wanted: Any) -> dict[str, Any]:
    options = wanted if isinstance(wanted, list) else [wanted]
    return {key: {"$in": options}} if len(options) != 1 else {key: {"$eq": options[0]}}


class PineconeVectorStore:
    name = "pinecone"
    supports_keyword = False

    def __init__(
        self,
        *,
        api_key: str,
        index_name: str,
        dimension: int,
        host: str | None = None,
        index_host: str | None = None,
    ) -> None:
        self.api_key = api_key
        self.index_name = index_name
        self.dimension = dimension
        self.host = host
        self.index_host = index_host
        self._pc: Any = None
        self._index: Any = None
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def start(self) -> None:
        from pinecone import AsyncPinecone
        from pinecone.errors import NotFoundError as PineconeNotFound

        self._pc = AsyncPinecone(api_key=self.api_key, host=self.host)
        try:
            if self.index_host:
                self._index = self._pc.IndexAsyncio(host=self.index_host)
                return
            desc = await self._pc.describe_index(self.index_name)
        except PineconeNotFound:
            raise ConfigError(
                f"PINECONE_INDEX_NAME: no index {self.index_name!r}; create it (dense, cosine, "
                f"dimension {self.dimension})"
            ) from None
        except Exception as exc:
            raise DependencyUnavailableError(f"Pinecone unavailable: {exc}") from None
        fields = (getattr(desc.schema, "fields", None) or {}).values()
        dims = {int(d) for f in fields if (d := getattr(f, "dimension", None)) is not None}
        if dims and self.dimension not in dims:
            raise ConfigError(
                f"Pinecone index {self.index_name!r} has dimension {sorted(dims)}, "
                f"the embedding model {self.dimension}"
            )
        self._index = await self._pc.index(host=desc.host)

    async def stop(self) -> None:
        for client in (self._index, self._pc):
            if client is not None and hasattr(client, "close"):
                await client.close()
        self._index = self._pc = None

    async def ready(self) -> tuple[bool, str]:
        try:
            stats = await self._index.describe_index_stats()
            return True, f"{stats.total_vector_count} vectors"
        except Exception as exc:
            return False, f"{type(exc).__name__}: {exc}"

    # -- helpers ---------------------------------------------------------------------

    async def _call(self, coro: Any) -> Any:
        from pinecone.errors import PineconeError

        try:
            return await coro
        except PineconeError as exc:
            raise DependencyUnavailableError(f"Pinecone request failed: {exc}") from None

    async def _all(self, namespace: str, flt: dict[str, Any]) -> list[Any]:
        out: list[Any] = []
        token: str | None = None
        while True:
            resp = await self._call(
                self._index.fetch_by_metadata(
                    filter=flt, namespace=namespace, limit=PAGE, pagination_token=token
                )
            )
            out.extend(resp.vectors.values())
            token = resp.pagination.next if resp.pagination else None
            if not token:
                return out

    async def _registry(self, collection: str, doc_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not doc_ids:
            return {}
        resp = await self._call(
            self._index.fetch(ids=[f"{collection}/{d}" for d in doc_ids], namespace=REGISTRY)
        )
        return {v.metadata["document_id"]: dict(v.metadata) for v in resp.vectors.values()}

    def _placeholder(self) -> list[float]:
        return [1.0] + [0.0] * (self.dimension - 1)

    # -- writes ----------------------------------------------------------------------

    async def replace_document(
        self, document: DocumentRecord, batches: AsyncIterator[list[ChunkRecord]]
    ) -> int:
        coll, doc_id, version = document.collection, document.document_id, document.version
        async with self._locks.setdefault((coll, doc_id), asyncio.Lock()):
            written: list[str] = []
            count = 0
            try:
                async for batch in batches:
                    vectors = []
                    for r in batch:
                        meta: dict[str, Any] = {
                            "document_id": doc_id, "version": version, "chunk_index": r.index,
                            "text": r.text, "headings": r.headings, "start": r.start,
                            "end": r.end, "metadata_json": json.dumps(r.metadata),
                        }  # fmt: skip
                        if r.page is not None:
                            meta["page"] = r.page
                        for key, value in r.metadata.items():
                            if isinstance(value, str | int | float | bool):
                                meta[f"m_{key}"] = value
                            elif isinstance(value, list):
                                meta[f"m_{key}"] = [str(v) for v in value]
                        vid = f"{doc_id}#{version}#{r.index}"
                        vectors.append({"id": vid, "values": list(r.vector), "metadata": meta})
                        written.append(vid)
                    await self._call(
                        self._index.upsert(vectors=vectors, namespace=coll, show_progress=False)
                    )
                    count += len(batch)
            except BaseException:
                if written:
                    await asyncio.shield(self._index.delete(ids=written, namespace=coll))
                raise
            document.chunk_count = count
            record = {"document_id": doc_id, "collection": coll, "version": version,
                      "record_json": json.dumps(document.to_dict())}  # fmt: skip
            await self._call(
                self._index.upsert(
                    vectors=[
                        {
                            "id": f"{coll}/{doc_id}",
                            "values": self._placeholder(),
                            "metadata": record,
                        }
                    ],
                    namespace=REGISTRY,
                    show_progress=False,
                )
            )
            older = {"$or": [{"version": {"$ne": version}}, {"chunk_index": {"$gte": count}}]}
            stale = {"$and": [{"document_id": {"$eq": doc_id}}, older]}
            await self._call(self._index.delete(filter=stale, namespace=coll))
            return count

    async def delete_document(self, collection: str, document_id: str) -> bool:
        async with self._locks.setdefault((collection, document_id), asyncio.Lock()):
            existed = bool(await self._registry(collection, [document_id]))
            await self._call(
                self._index.delete(ids=[f"{collection}/{document_id}"], namespace=REGISTRY)
            )
            await self._call(
                self._index.delete(
                    filter={"document_id": {"$eq": document_id}}, namespace=collection
                )
            )
            return existed

    # -- reads -----------------------------------------------------------------------

    async def get_document(self, collection: str, document_id: str) -> DocumentRecord | None:
        row = (await self._registry(collection, [document_id])).get(document_id)
        return DocumentRecord.from_dict(json.loads(row["record_json"])) if row else None

    async def _visible(
        self, collection: str, items: list[tuple[dict[str, Any], float, str]]
    ) -> list[Hit]:
        reg = await self._registry(collection, sorted({m["document_id"] for m, _, _ in items}))
        return [
            _hit(collection, m, score)
            for m, score, _ in items
            if m["document_id"] in reg and reg[m["document_id"]]["version"] == m["version"]
        ]

    async def get_chunks(self, collection: str, document_id: str, limit: int) -> list[Hit]:
        found = await self._all(collection, {"document_id": {"$eq": document_id}})
        hits = await self._visible(collection, [(dict(v.metadata), 0.0, v.id) for v in found])
        return sorted(hits, key=lambda h: h.index)[:limit]

    async def search_vector(
        self, collection: str, vector: Sequence[float], top_k: int, filters: dict[str, Any]
    ) -> list[Hit]:
        clauses = []
        for key, wanted in sorted(filters.items()):
            if key == "document_id":
                clauses.append(_meta_filter("document_id", wanted))
            elif isinstance(wanted, list):
                clauses.append(_meta_filter(f"m_{key}", [_scalar(w) for w in wanted]))
            else:
                clauses.append(_meta_filter(f"m_{key}", _scalar(wanted)))
        flt = {"$and": clauses} if len(clauses) > 1 else (clauses[0] if clauses else None)
        resp = await self._call(
            self._index.query(
                vector=[float(x) for x in vector], top_k=min(10_000, top_k * 2 + 10),
                namespace=collection, filter=flt, include_metadata=True,
            )
        )  # fmt: skip
        hits = await self._visible(
            collection, [(dict(m.metadata), m.score, m.id) for m in resp.matches]
        )
        hits.sort(key=lambda h: (-h.score, h.document_id, h.index))
        return hits[:top_k]

    async def search_keyword(
        self, collection: str, query: str, top_k: int, filters: dict[str, Any]
    ) -> list[Hit]:
        raise PermanentError(
            "Pinecone has no full-text index: use mode=vector (hybrid falls back to it)",
            code="KEYWORD_SEARCH_UNSUPPORTED",
        )

    async def list_collections(self) -> list[CollectionInfo]:
        stats = await self._call(self._index.describe_index_stats())
        names = sorted(n for n in stats.namespaces if n != REGISTRY)
        return await stats_of(names, self.collection_stats)

    async def collection_stats(self, collection: str) -> CollectionInfo | None:
        rows = await self._all(REGISTRY, {"collection": {"$eq": collection}})
        records = [json.loads(v.metadata["record_json"]) for v in rows]
        return info_from_records(collection, records, self.dimension)


def _scalar(value: Any) -> Any:
    """Filter values as stored: list items are stored as strings (Pinecone lists are str)."""
    return value if isinstance(value, str | int | float | bool) else str(value)


def _hit(collection: str, m: dict[str, Any], score: float) -> Hit:
    return Hit(
        chunk_id=f"{m['document_id']}#{int(m['chunk_index'])}",
        document_id=m["document_id"],
        collection=collection,
        index=int(m["chunk_index"]),
        text=m["text"],
        score=float(score),
        page=int(m["page"]) if m.get("page") is not None else None,
        headings=list(m.get("headings") or []),
        start=int(m["start"]),
        end=int(m["end"]),
        metadata=json.loads(m.get("metadata_json") or "{}"),
    )

"""The ``VectorStore`` port on Weaviate, through the official ``weaviate-client`` (v4, async).

Uses Weaviate's REST API (schema, objects) and GraphQL ``Get`` queries
(``nearVector`` with cosine distance, ``bm25`` over text and headings, ``where``
filters) — no gRPC, so any Weaviate >= 1.27 reachable over HTTP works.

Classes: ``<prefix>Chunk<dim>`` (vectors supplied by us, vectorizer none) and
``<prefix>Document`` (the document registry, no vectors). Object ids are
UUIDv5 of collection/document/version/index, so a re-run writes the same ids.
Metadata filters use a ``meta_pairs`` text[] property (``key=<json value>``)
with ``ContainsAny``, matching the other stores' equality semantics.

Replacement: new-version chunks are written first, then the registry entry
is switched to the new version (the commit point), then older versions'
chunks are deleted. Reads keep only chunks of the registered version, so a
half-written or abandoned version is never visible; a failed stream deletes
what it wrote. Same-document writers are serialised per process.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import urlsplit

from agents.data_processing.collections import info_from_records, stats_of
from agents.data_processing.model import ChunkRecord, CollectionInfo, DocumentRecord, Hit
from enginedge_streams.errors import ConfigError, DependencyUnavailableError, PermanentError

NS = uuid.UUID("6f1c2c1e-5d3b-4b9a-9a53-2f6f0c3e7a10")
CHUNK_FIELDS = (
    "chunk_id document_id collection chunk_index text page headings start_offset end_offset "
    "metadata_json version"
)
LIMIT = 10_000


def _q(value: Any) -> str:
    """A GraphQL literal (JSON strings, numbers and arrays are valid GraphQL)."""
    return json.dumps(value)


def meta_pairs(metadata: dict[str, Any]) -> list[str]:
    pairs = []
    for key, value in metadata.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append(f"{key}={json.dumps(item, sort_keys=True)}")
    return pairs


def _eq(path: str, value: str) -> str:
    return f"{{path: [{_q(path)}], operator: Equal, valueText: {_q(value)}}}"


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{{operator: And, operands: [{', '.join(parts)}]}}"


def _filters(collection: str, filters: dict[str, Any]) -> str:
    parts = [_eq("collection", collection)]
    for key, wanted in sorted(filters.items()):
        options = wanted if isinstance(wanted, list) else [wanted]
        if key == "document_id":
            ors = [_eq("document_id", str(o)) for o in options] or [_eq("document_id", "\x00")]
            parts.append(
                ors[0] if len(ors) == 1 else f"{{operator: Or, operands: [{', '.join(ors)}]}}"
            )
        else:
            pairs = [f"{key}={json.dumps(o, sort_keys=True)}" for o in options] or ["\x00"]
            parts.append(
                f'{{path: ["meta_pairs"], operator: ContainsAny, valueTextArray: {_q(pairs)}}}'
            )
    return _and(parts)


class WeaviateVectorStore:
    name = "weaviate"

    def __init__(
        self,
        url: str,
        *,
        dimension: int,
        api_key: str | None = None,
        class_prefix: str = "Enginedge",
        grpc_port: int = 50051,
        concurrency: int = 16,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"WEAVIATE_URL: expected http(s)://host[:port], got {url!r}")
        self.host = parts.hostname
        self.secure = parts.scheme == "https"
        self.port = parts.port or (443 if self.secure else 8080)
        self.grpc_port = grpc_port
        self.api_key = api_key
        self.dimension = dimension
        self.chunk_class = f"{class_prefix}Chunk{dimension}"
        self.doc_class = f"{class_prefix}Document"
        self.concurrency = concurrency
        self._client: Any = None
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        import weaviate
        from weaviate.classes.init import Auth

        self._client = weaviate.use_async_with_custom(
            http_host=self.host,
            http_port=self.port,
            http_secure=self.secure,
            grpc_host=self.host,
            grpc_port=self.grpc_port,
            grpc_secure=self.secure,
            auth_credentials=Auth.api_key(self.api_key) if self.api_key else None,
            skip_init_checks=True,
        )
        try:
            await self._client.connect()
            await self._ensure_classes()
        except Exception as exc:
            raise DependencyUnavailableError(f"Weaviate unavailable: {exc}") from None

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def ready(self) -> tuple[bool, str]:
        try:
            meta = await self._client.get_meta()
            return True, f"Weaviate {meta.get('version')}"
        except Exception as exc:
            return False, f"{type(exc).__name__}: {exc}"

    async def _ensure_classes(self) -> None:
        def prop(
            name: str, dtype: str, *, field: bool = False, index: bool = True
        ) -> dict[str, Any]:
            p: dict[str, Any] = {"name": name, "dataType": [dtype]}
            if field:
                p["tokenization"] = "field"
            if not index:
                p["indexFilterable"] = False
                p["indexSearchable"] = False
            return p

        chunk = {
            "class": self.chunk_class,
            "vectorizer": "none",
            "vectorIndexType": "hnsw",
            "vectorIndexConfig": {"distance": "cosine"},
            "properties": [
                prop("text", "text"),
                prop("heading_text", "text"),
                prop("headings", "text[]", field=True),
                prop("chunk_id", "text", field=True),
                prop("document_id", "text", field=True),
                prop("collection", "text", field=True),
                prop("version", "text", field=True),
                prop("meta_pairs", "text[]", field=True),
                prop("metadata_json", "text", index=False),
                prop("chunk_index", "int"),
                prop("page", "int"),
                prop("start_offset", "int"),
                prop("end_offset", "int"),
            ],
        }
        doc = {
            "class": self.doc_class,
            "vectorizer": "none",
            "properties": [
                prop("collection", "text", field=True),
                prop("document_id", "text", field=True),
                prop("version", "text", field=True),
                prop("format", "text", field=True),
                prop("record_json", "text", index=False),
            ],
        }
        for spec in (chunk, doc):
            if not await self._client.collections.exists(spec["class"]):
                try:
                    await self._client.collections.create_from_dict(spec)
                except Exception as exc:  # created meanwhile by another replica
                    if "already exists" not in str(exc):
                        raise

    # -- helpers ---------------------------------------------------------------------

    async def _get(self, cls: str, args: str, fields: str) -> list[dict[str, Any]]:
        query = f"{{ Get {{ {cls}({args}) {{ {fields} }} }} }}"
        try:
            res = await self._client.graphql_raw_query(query)
        except Exception as exc:
            raise DependencyUnavailableError(f"Weaviate query failed: {exc}") from None
        if res.errors:
            raise PermanentError(
                f"Weaviate rejected a query: {res.errors}", code="VECTOR_STORE_ERROR"
            )
        rows: list[dict[str, Any]] = (res.get or {}).get(cls) or []
        return rows

    async def _registry(
        self, collection: str, doc_ids: Sequence[str] | None
    ) -> dict[str, dict[str, Any]]:
        where = _filters(collection, {"document_id": list(doc_ids)} if doc_ids is not None else {})
        rows = await self._get(
            self.doc_class, f"where: {where}, limit: {LIMIT}",
            "document_id version format record_json _additional { id }",
        )  # fmt: skip
        return {r["document_id"]: r for r in rows}

    async def _chunk_ids(self, collection: str, document_id: str) -> list[tuple[str, str]]:
        rows = await self._get(
            self.chunk_class,
            f"where: {_filters(collection, {'document_id': document_id})}, limit: {LIMIT}",
            "version _additional { id }",
        )
        return [(r["_additional"]["id"], r["version"]) for r in rows]

    async def _delete(self, cls: str, ids: Sequence[str]) -> None:
        coll = self._client.collections.get(cls)
        sem = asyncio.Semaphore(self.concurrency)

        async def one(oid: str) -> None:
            async with sem:
                await coll.data.delete_by_id(oid)

        await asyncio.gather(*(one(i) for i in ids))

    async def _insert(
        self, cls: str, oid: str, properties: dict[str, Any], vector: list[float] | None
    ) -> None:
        coll = self._client.collections.get(cls)
        try:
            await coll.data.insert(properties=properties, uuid=oid, vector=vector)
        except Exception as exc:
            if "already exists" not in str(exc):
                raise DependencyUnavailableError(f"Weaviate write failed: {exc}") from None
            await coll.data.replace(uuid=oid, properties=properties, vector=vector)

    # -- writes ----------------------------------------------------------------------

    async def replace_document(
        self, document: DocumentRecord, batches: AsyncIterator[list[ChunkRecord]]
    ) -> int:
        coll, doc_id, version = document.collection, document.document_id, document.version
        lock = self._locks.setdefault((coll, doc_id), asyncio.Lock())
        async with lock:
            written: list[str] = []
            sem = asyncio.Semaphore(self.concurrency)

            async def put(r: ChunkRecord) -> None:
                oid = str(uuid.uuid5(NS, f"{coll}/{doc_id}/{version}/{r.index}"))
                props = {
                    "text": r.text, "heading_text": " ".join(r.headings), "headings": r.headings,
                    "chunk_id": r.chunk_id, "document_id": doc_id, "collection": coll,
                    "version": version, "meta_pairs": meta_pairs(r.metadata),
                    "metadata_json": json.dumps(r.metadata), "chunk_index": r.index,
                    "start_offset": r.start, "end_offset": r.end,
                }  # fmt: skip
                if r.page is not None:
                    props["page"] = r.page
                async with sem:
                    written.append(oid)
                    await self._insert(self.chunk_class, oid, props, list(r.vector))

            count = 0
            try:
                async for batch in batches:
                    await asyncio.gather(*(put(r) for r in batch))
                    count += len(batch)
            except BaseException:
                await asyncio.shield(self._delete(self.chunk_class, written))
                raise
            document.chunk_count = count
            reg_id = str(uuid.uuid5(NS, f"doc/{coll}/{doc_id}"))
            await self._insert(
                self.doc_class, reg_id,
                {"collection": coll, "document_id": doc_id, "version": version,
                 "format": document.format, "record_json": json.dumps(document.to_dict())},
                None,
            )  # fmt: skip
            keep = set(written)
            stale = [oid for oid, _ in await self._chunk_ids(coll, doc_id) if oid not in keep]
            await self._delete(self.chunk_class, stale)
            return count

    async def delete_document(self, collection: str, document_id: str) -> bool:
        async with self._locks.setdefault((collection, document_id), asyncio.Lock()):
            reg = await self._registry(collection, [document_id])
            if document_id in reg:
                await self._delete(self.doc_class, [reg[document_id]["_additional"]["id"]])
            ids = [oid for oid, _ in await self._chunk_ids(collection, document_id)]
            await self._delete(self.chunk_class, ids)
            return document_id in reg

    # -- reads -----------------------------------------------------------------------

    async def get_document(self, collection: str, document_id: str) -> DocumentRecord | None:
        reg = await self._registry(collection, [document_id])
        row = reg.get(document_id)
        return DocumentRecord.from_dict(json.loads(row["record_json"])) if row else None

    async def _visible(self, collection: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Only chunks of each document's registered version."""
        if not rows:
            return []
        reg = await self._registry(collection, sorted({r["document_id"] for r in rows}))
        return [
            r
            for r in rows
            if r["document_id"] in reg and reg[r["document_id"]]["version"] == r["version"]
        ]

    async def get_chunks(self, collection: str, document_id: str, limit: int) -> list[Hit]:
        rows = await self._get(
            self.chunk_class,
            f"where: {_filters(collection, {'document_id': document_id})}, limit: {LIMIT}",
            CHUNK_FIELDS,
        )
        rows = sorted(await self._visible(collection, rows), key=lambda r: r["chunk_index"])
        return [_hit(r, 0.0) for r in rows[:limit]]

    async def search_vector(
        self, collection: str, vector: Sequence[float], top_k: int, filters: dict[str, Any]
    ) -> list[Hit]:
        args = (
            f"nearVector: {{vector: {_q([float(x) for x in vector])}}}, "
            f"where: {_filters(collection, filters)}, limit: {top_k * 2 + 10}"
        )
        rows = await self._get(
            self.chunk_class, args, f"{CHUNK_FIELDS} _additional {{ id distance }}"
        )
        hits = [
            _hit(r, 1.0 - float(r["_additional"]["distance"]))
            for r in await self._visible(collection, rows)
        ]
        hits.sort(key=lambda h: (-h.score, h.document_id, h.index))
        return hits[:top_k]

    async def search_keyword(
        self, collection: str, query: str, top_k: int, filters: dict[str, Any]
    ) -> list[Hit]:
        args = (
            f'bm25: {{query: {_q(query)}, properties: ["text", "heading_text"]}}, '
            f"where: {_filters(collection, filters)}, limit: {top_k * 2 + 10}"
        )
        rows = await self._get(self.chunk_class, args, f"{CHUNK_FIELDS} _additional {{ id score }}")
        hits = [
            _hit(r, float(r["_additional"]["score"])) for r in await self._visible(collection, rows)
        ]
        hits = [h for h in hits if h.score > 0]
        hits.sort(key=lambda h: (-h.score, h.document_id, h.index))
        return hits[:top_k]

    async def list_collections(self) -> list[CollectionInfo]:
        rows = await self._get(self.doc_class, f"limit: {LIMIT}", "collection")
        return await stats_of(sorted({r["collection"] for r in rows}), self.collection_stats)

    async def collection_stats(self, collection: str) -> CollectionInfo | None:
        reg = await self._registry(collection, None)
        records = [json.loads(r["record_json"]) for r in (reg or {}).values()]
        return info_from_records(collection, records, self.dimension)


def _hit(row: dict[str, Any], score: float) -> Hit:
    return Hit(
        chunk_id=row["chunk_id"],
        document_id=row["document_id"],
        collection=row["collection"],
        index=int(row["chunk_index"]),
        text=row["text"],
        score=score,
        page=int(row["page"]) if row.get("page") is not None else None,
        headings=list(row.get("headings") or []),
        start=int(row["start_offset"]),
        end=int(row["end_offset"]),
        metadata=json.loads(row.get("metadata_json") or "{}"),
    )

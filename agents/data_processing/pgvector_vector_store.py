"""The ``VectorStore`` port on PostgreSQL + pgvector (psycopg 3, async pool).

One schema (``PGVECTOR_SCHEMA``) holds ``documents`` and ``chunks_<dim>``
(one chunk table per embedding dimension, so switching models never mixes
vectors). Vectors are searched through an HNSW index (cosine) with pgvector's
iterative index scan, so metadata filters do not starve the result list;
keyword search uses a stored ``tsvector`` (English configuration, GIN index)
with OR semantics over the query's lexemes, ranked by Okapi BM25 (IDF counted
through the GIN index). ``ts_rank_cd`` before had no IDF: words common to every
chunk outranked rare ones and repeating a phrase kept raising the score.

A document is replaced inside one transaction (advisory-locked per
document): old chunks deleted, new ones streamed in with COPY, the document
row upserted. Readers see either the old or the new version, never a mix, and
a failure rolls everything back.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any, ParamSpec, TypeVar

import numpy as np
from psycopg import sql

from agents.data_processing.collections import stats_of
from agents.data_processing.model import (
    ChunkRecord,
    CollectionInfo,
    DocumentRecord,
    Hit,
)
from enginedge_streams.errors import ConfigError, DependencyUnavailableError

P = ParamSpec("P")
T = TypeVar("T")
_COLS = (
    "collection, document_id, chunk_index, chunk_id, text, headings, heading_text, page, "
    "start_offset, end_offset, metadata, embedding"
)
_SELECT = (
    "chunk_id, document_id, collection, chunk_index, text, page, headings, start_offset, "
    "end_offset, metadata"
)


def _unavailable(
    fn: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """Connection problems are retryable (DependencyUnavailableError), not crashes."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        import psycopg
        from psycopg_pool import PoolTimeout

        try:
            return await fn(*args, **kwargs)
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise DependencyUnavailableError(f"PostgreSQL unavailable: {exc}") from None

    return wrapper


class PgvectorVectorStore:
    name = "pgvector"

    def __init__(
        self,
        dsn: str,
        *,
        dimension: int,
        schema: str = "enginedge",
        pool_size: int = 4,
        ef_search: int = 100,
    ) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,50}", schema):
            raise ConfigError(f"PGVECTOR_SCHEMA: invalid schema name {schema!r}")
        self.dsn = dsn
        self.dimension = dimension
        self.schema = schema
        self.pool_size = pool_size
        self.ef_search = ef_search
        self.table = f"{schema}.chunks_{dimension}"
        self._names = {
            "docs": sql.Identifier(schema, "documents"),
            "chunks": sql.Identifier(schema, f"chunks_{dimension}"),
            "schema": sql.Identifier(schema),
            "hnsw": sql.Identifier(f"chunks_{dimension}_hnsw"),
            "tsv_idx": sql.Identifier(f"chunks_{dimension}_tsv"),
            "meta_idx": sql.Identifier(f"chunks_{dimension}_meta"),
            "dim": sql.Literal(dimension),
        }
        self._pool: Any = None

    def q(self, text: str, **extra: sql.Composable) -> sql.Composed:
        """A statement with this store's table names (identifiers, never string formatting)."""
        return sql.SQL(text).format(**self._names, **extra)

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        from pgvector.psycopg import register_vector_async
        from psycopg_pool import AsyncConnectionPool

        await self._migrate()

        async def configure(conn: Any) -> None:
            await register_vector_async(conn)
            await conn.set_autocommit(True)

        self._pool = AsyncConnectionPool(
            self.dsn,
            min_size=1,
            max_size=self.pool_size,
            open=False,
            configure=configure,
            timeout=10.0,
        )
        await self._pool.open(wait=True, timeout=30.0)

    async def stop(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def ready(self) -> tuple[bool, str]:
        try:
            async with self._conn() as conn:
                await conn.execute("SELECT 1")
            return True, f"{self.table} reachable"
        except Exception as exc:
            return False, f"{type(exc).__name__}: {exc}"

    async def _migrate(self) -> None:
        import psycopg

        ddl = [
            "CREATE EXTENSION IF NOT EXISTS vector",
            "CREATE SCHEMA IF NOT EXISTS {schema}",
            """CREATE TABLE IF NOT EXISTS {docs} (
                collection text NOT NULL, document_id text NOT NULL, record jsonb NOT NULL,
                format text NOT NULL, bytes bigint NOT NULL, ocr_pages int NOT NULL,
                chunk_count int NOT NULL, dimension int NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (collection, document_id))""",
            """CREATE TABLE IF NOT EXISTS {chunks} (
                collection text NOT NULL, document_id text NOT NULL, chunk_index int NOT NULL,
                chunk_id text NOT NULL, text text NOT NULL, headings text[] NOT NULL,
                heading_text text NOT NULL, page int, start_offset int NOT NULL,
                end_offset int NOT NULL, metadata jsonb NOT NULL, embedding vector({dim}) NOT NULL,
                tsv tsvector GENERATED ALWAYS AS
                    (to_tsvector('english'::regconfig, heading_text || ' ' || text)) STORED,
                PRIMARY KEY (collection, document_id, chunk_index))""",
            """CREATE INDEX IF NOT EXISTS {hnsw} ON {chunks}
                USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)""",
            "CREATE INDEX IF NOT EXISTS {tsv_idx} ON {chunks} USING gin (tsv)",
            "CREATE INDEX IF NOT EXISTS {meta_idx} ON {chunks} USING gin (metadata jsonb_path_ops)",
        ]
        try:
            conn = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
            async with conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext('enginedge-dp-ddl'))")
                for statement in ddl:
                    await conn.execute(self.q(statement))
        except psycopg.OperationalError as exc:
            raise DependencyUnavailableError(f"PostgreSQL unavailable: {exc}") from None

    def _conn(self) -> Any:
        if self._pool is None:
            raise DependencyUnavailableError("the pgvector store is not started")
        return self._pool.connection()

    # -- writes ----------------------------------------------------------------------

    @_unavailable
    async def replace_document(
        self, document: DocumentRecord, batches: AsyncIterator[list[ChunkRecord]]
    ) -> int:
        from psycopg.types.json import Jsonb

        coll, doc_id = document.collection, document.document_id
        count = 0
        async with self._conn() as conn, conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"{coll}/{doc_id}",)
            )
            await conn.execute(
                self.q("DELETE FROM {chunks} WHERE collection = %s AND document_id = %s"),
                (coll, doc_id),
            )
            copy_sql = self.q("COPY {chunks} ({cols}) FROM STDIN", cols=sql.SQL(_COLS))
            async for batch in batches:
                async with conn.cursor() as cur, cur.copy(copy_sql) as copy:
                    for r in batch:
                        row = (
                            r.collection,
                            r.document_id,
                            r.index,
                            r.chunk_id,
                            r.text,
                            r.headings,
                            " ".join(r.headings),
                            r.page,
                            r.start,
                            r.end,
                            Jsonb(r.metadata),
                            np.asarray(r.vector, dtype=np.float32),
                        )
                        await copy.write_row(row)
                count += len(batch)
            document.chunk_count = count
            await conn.execute(
                self.q(
                    """INSERT INTO {docs} (collection, document_id, record, format, bytes,
                        ocr_pages, chunk_count, dimension, updated_at)
                    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now())
                    ON CONFLICT (collection, document_id) DO UPDATE SET record = EXCLUDED.record,
                        format = EXCLUDED.format, bytes = EXCLUDED.bytes,
                        ocr_pages = EXCLUDED.ocr_pages, chunk_count = EXCLUDED.chunk_count,
                        dimension = EXCLUDED.dimension, updated_at = now()"""
                ),
                (
                    coll,
                    doc_id,
                    Jsonb(document.to_dict()),
                    document.format,
                    document.bytes,
                    document.ocr_pages,
                    count,
                    self.dimension,
                ),
            )
        return count

    @_unavailable
    async def delete_document(self, collection: str, document_id: str) -> bool:
        async with self._conn() as conn, conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                (f"{collection}/{document_id}",),
            )
            await conn.execute(
                self.q("DELETE FROM {chunks} WHERE collection = %s AND document_id = %s"),
                (collection, document_id),
            )
            cur = await conn.execute(
                self.q("DELETE FROM {docs} WHERE collection = %s AND document_id = %s"),
                (collection, document_id),
            )
            return bool(cur.rowcount)

    # -- reads -----------------------------------------------------------------------

    @_unavailable
    async def get_document(self, collection: str, document_id: str) -> DocumentRecord | None:
        async with self._conn() as conn:
            cur = await conn.execute(
                self.q("SELECT record FROM {docs} WHERE collection = %s AND document_id = %s"),
                (collection, document_id),
            )
            row = await cur.fetchone()
        return DocumentRecord.from_dict(row[0]) if row else None

    @_unavailable
    async def get_chunks(self, collection: str, document_id: str, limit: int) -> list[Hit]:
        async with self._conn() as conn:
            cur = await conn.execute(
                self.q(
                    """SELECT {cols}, 0.0 FROM {chunks} WHERE collection = %s AND document_id = %s
                       ORDER BY chunk_index LIMIT %s""",
                    cols=sql.SQL(_SELECT),
                ),
                (collection, document_id, limit),
            )
            return [_hit(row) for row in await cur.fetchall()]

    @_unavailable
    async def search_vector(
        self, collection: str, vector: Sequence[float], top_k: int, filters: dict[str, Any]
    ) -> list[Hit]:
        where, params = _where(collection, filters)
        q = np.asarray(vector, dtype=np.float32)
        async with self._conn() as conn, conn.transaction():
            await conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            await conn.execute(
                sql.SQL("SET LOCAL hnsw.ef_search = {}").format(
                    sql.Literal(max(self.ef_search, top_k))
                )
            )
            cur = await conn.execute(
                self.q(
                    """SELECT {cols}, 1 - (embedding <=> %s) AS score FROM {chunks}
                       WHERE {where} ORDER BY embedding <=> %s LIMIT %s""",
                    cols=sql.SQL(_SELECT),
                    where=where,
                ),
                (q, *params, q, top_k),
            )
            rows = await cur.fetchall()
        hits = [_hit(row) for row in rows]
        hits.sort(key=lambda h: (-h.score, h.document_id, h.index))  # relaxed order: re-sort
        return hits

    @_unavailable
    async def search_keyword(
        self, collection: str, query: str, top_k: int, filters: dict[str, Any]
    ) -> list[Hit]:
        """Okapi BM25 (k1 = 1.2, b = 0.75, as the in-memory store) over the stored ``tsvector``.

        The query's lexemes (English configuration, stop words dropped) are OR-ed; each
        lexeme's document frequency is counted through the GIN index over the filtered
        chunks, a chunk's term frequency and length (non-stop-word tokens) come from its
        ``tsvector`` positions, the average length from the matching chunks."""
        where, params = _where(collection, filters)
        async with self._conn() as conn:
            cur = await conn.execute(
                self.q(_BM25, cols=sql.SQL(_SELECT), where=where),
                (query, *params, *params, *params, top_k),
            )
            return [_hit(row) for row in await cur.fetchall()]

    @_unavailable
    async def list_collections(self) -> list[CollectionInfo]:
        async with self._conn() as conn:
            cur = await conn.execute(self.q("SELECT DISTINCT collection FROM {docs} ORDER BY 1"))
            names = [r[0] for r in await cur.fetchall()]
        return await stats_of(names, self.collection_stats)

    @_unavailable
    async def collection_stats(self, collection: str) -> CollectionInfo | None:
        async with self._conn() as conn:
            cur = await conn.execute(
                self.q(
                    """SELECT format, count(*), sum(chunk_count), sum(bytes), sum(ocr_pages)
                       FROM {docs} WHERE collection = %s GROUP BY format"""
                ),
                (collection,),
            )
            rows = await cur.fetchall()
        if not rows:
            return None
        return CollectionInfo(
            name=collection,
            documents=sum(int(r[1]) for r in rows),
            chunks=sum(int(r[2]) for r in rows),
            dimension=self.dimension,
            bytes=sum(int(r[3]) for r in rows),
            ocr_pages=sum(int(r[4]) for r in rows),
            formats={r[0]: int(r[1]) for r in sorted(rows)},
        )


#: Okapi BM25 in SQL. ``quote(lexeme)``: the lexeme as a quoted tsquery operand (quotes and
#: backslashes doubled), written out twice below.
_BM25 = r"""WITH terms AS (SELECT DISTINCT lexeme FROM unnest(to_tsvector('english', %s))),
    q AS (SELECT string_agg('''' || replace(replace(lexeme, '\', '\\'), '''', '''''') || '''',
                            ' | ')::tsquery AS query FROM terms),
    idf AS (
        SELECT t.lexeme, ln(1 + (n.n - d.df + 0.5) / (d.df + 0.5)) AS idf
        FROM terms t, (SELECT count(*) AS n FROM {chunks} WHERE {where}) n,
        LATERAL (SELECT count(*) AS df FROM {chunks} WHERE {where} AND tsv @@ (
            '''' || replace(replace(t.lexeme, '\', '\\'), '''', '''''') || '''')::tsquery) d),
    cand AS (
        SELECT {cols}, tsv, (SELECT sum(cardinality(positions)) FROM unnest(tsv)) AS len
        FROM {chunks}, q WHERE {where} AND tsv @@ q.query),
    avg_len AS (SELECT greatest(avg(len), 1) AS v FROM cand)
    SELECT {cols}, s.score FROM cand, avg_len, LATERAL (
        SELECT sum(idf.idf * cardinality(u.positions) * 2.2
                   / (cardinality(u.positions) + 1.2 * (0.25 + 0.75 * cand.len / avg_len.v)))
               AS score
        FROM unnest(cand.tsv) u JOIN idf ON idf.lexeme = u.lexeme) s
    ORDER BY s.score DESC, document_id, chunk_index LIMIT %s"""


def _where(collection: str, filters: dict[str, Any]) -> tuple[sql.Composable, list[Any]]:
    """SQL for equality filters (a list means any of), with the same semantics as the fakes."""
    from psycopg.types.json import Jsonb

    clauses: list[sql.Composable] = [sql.SQL("collection = %s")]
    params: list[Any] = [collection]
    for key, wanted in sorted(filters.items()):
        options = wanted if isinstance(wanted, list) else [wanted]
        if key == "document_id":
            clauses.append(sql.SQL("document_id = ANY(%s)"))
            params.append([str(o) for o in options])
            continue
        if not options:
            clauses.append(sql.SQL("FALSE"))
            continue
        ors = []
        for option in options:
            ors.append(sql.SQL("metadata @> %s OR metadata @> %s"))
            params.extend([Jsonb({key: option}), Jsonb({key: [option]})])
        clauses.append(sql.SQL("({})").format(sql.SQL(" OR ").join(ors)))
    return sql.SQL(" AND ").join(clauses), params


def _hit(row: Any) -> Hit:
    return Hit(
        chunk_id=row[0],
        document_id=row[1],
        collection=row[2],
        index=int(row[3]),
        text=row[4],
        page=row[5],
        headings=list(row[6] or []),
        start=int(row[7]),
        end=int(row[8]),
        metadata=row[9] if isinstance(row[9], dict) else json.loads(row[9]),
        score=float(row[10]),
    )

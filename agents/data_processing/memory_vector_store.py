"""The ``VectorStore`` port in memory (``VECTOR_STORE=memory``: one process, nothing kept);
exact cosine search and a BM25-like keyword score. Passes the vector store contract tests."""

from __future__ import annotations

import asyncio
import copy
import math
import re
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from typing import Any

import numpy as np

from agents.data_processing.collections import stats_of
from agents.data_processing.model import ChunkRecord, CollectionInfo, DocumentRecord, Hit

WORD = re.compile(r"[a-z0-9]+")
STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "was",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "do",
        "does",
        "can",
    ]
)


def terms(text: str) -> list[str]:
    """Lower-case word terms without stop words, with a crude plural/ing stemmer."""
    out = []
    for word in WORD.findall(text.lower()):
        if word in STOP:
            continue
        stem = word
        for suffix in ("ing", "es", "s"):
            if len(word) > len(suffix) + 2 and word.endswith(suffix):
                stem = word[: -len(suffix)]
                break
        out.append(stem)
    return out


def matches(metadata: dict[str, Any], document_id: str, filters: dict[str, Any]) -> bool:
    """Equality filter semantics shared by every store: a list value means any of."""
    for key, wanted in filters.items():
        value = document_id if key == "document_id" else metadata.get(key)
        options = wanted if isinstance(wanted, list) else [wanted]
        if isinstance(value, list):
            if not any(v in options for v in value):
                return False
        elif value not in options:
            return False
    return True


class InMemoryVectorStore:
    name = "memory"

    def __init__(self) -> None:
        self.documents: dict[tuple[str, str], DocumentRecord] = {}
        self.chunks: dict[tuple[str, str], list[ChunkRecord]] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def replace_document(
        self, document: DocumentRecord, batches: AsyncIterator[list[ChunkRecord]]
    ) -> int:
        key = (document.collection, document.document_id)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            staged: list[ChunkRecord] = []
            async for batch in batches:  # an exception here leaves the old version intact
                staged.extend(copy.deepcopy(batch))
            document.chunk_count = len(staged)
            self.chunks[key] = staged
            self.documents[key] = copy.deepcopy(document)
            return len(staged)

    async def delete_document(self, collection: str, document_id: str) -> bool:
        key = (collection, document_id)
        self.chunks.pop(key, None)
        return self.documents.pop(key, None) is not None

    async def get_document(self, collection: str, document_id: str) -> DocumentRecord | None:
        doc = self.documents.get((collection, document_id))
        return copy.deepcopy(doc) if doc else None

    async def get_chunks(self, collection: str, document_id: str, limit: int) -> list[Hit]:
        chunks = sorted(self.chunks.get((collection, document_id), []), key=lambda c: c.index)
        return [_hit(c, 0.0) for c in chunks[:limit]]

    def _candidates(self, collection: str, filters: dict[str, Any]) -> list[ChunkRecord]:
        return [
            c
            for (coll, doc_id), chunks in self.chunks.items()
            if coll == collection
            for c in chunks
            if matches(c.metadata, doc_id, filters)
        ]

    async def search_vector(
        self, collection: str, vector: Sequence[float], top_k: int, filters: dict[str, Any]
    ) -> list[Hit]:
        q = np.asarray(vector, dtype=np.float32)
        q = q / (float(np.linalg.norm(q)) or 1.0)
        scored = []
        for c in self._candidates(collection, filters):
            v = np.asarray(c.vector, dtype=np.float32)
            cos = float(v @ q / (float(np.linalg.norm(v)) or 1.0))
            scored.append((cos, c))
        scored.sort(key=lambda sc: (-sc[0], sc[1].document_id, sc[1].index))
        return [_hit(c, s) for s, c in scored[:top_k]]

    async def search_keyword(
        self, collection: str, query: str, top_k: int, filters: dict[str, Any]
    ) -> list[Hit]:
        """Okapi BM25 (k1=1.2, b=0.75) over chunk text and headings."""
        q_terms = set(terms(query))
        docs = self._candidates(collection, filters)
        if not q_terms or not docs:
            return []
        tfs = [Counter(terms(" ".join(c.headings) + " " + c.text)) for c in docs]
        avg = sum(sum(tf.values()) for tf in tfs) / len(tfs) or 1.0
        n = len(docs)
        scored = []
        for c, tf in zip(docs, tfs, strict=True):
            length = sum(tf.values())
            score = 0.0
            for t in q_terms:
                if tf[t]:
                    df = sum(1 for other in tfs if other[t])
                    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                    score += idf * tf[t] * 2.2 / (tf[t] + 1.2 * (0.25 + 0.75 * length / avg))
            if score > 0:
                scored.append((score, c))
        scored.sort(key=lambda sc: (-sc[0], sc[1].document_id, sc[1].index))
        return [_hit(c, s) for s, c in scored[:top_k]]

    async def list_collections(self) -> list[CollectionInfo]:
        names = sorted({coll for coll, _ in self.documents})
        return await stats_of(names, self.collection_stats)

    async def collection_stats(self, collection: str) -> CollectionInfo | None:
        docs = [d for (coll, _), d in self.documents.items() if coll == collection]
        if not docs:
            return None
        chunks = [c for (coll, _), cs in self.chunks.items() if coll == collection for c in cs]
        formats = Counter(d.format for d in docs)
        return CollectionInfo(
            name=collection,
            documents=len(docs),
            chunks=len(chunks),
            dimension=len(chunks[0].vector) if chunks else None,
            bytes=sum(d.bytes for d in docs),
            ocr_pages=sum(d.ocr_pages for d in docs),
            formats=dict(sorted(formats.items())),
        )


def _hit(c: ChunkRecord, score: float) -> Hit:
    return Hit(
        chunk_id=c.chunk_id,
        document_id=c.document_id,
        collection=c.collection,
        index=c.index,
        text=c.text,
        score=score,
        page=c.page,
        headings=list(c.headings),
        start=c.start,
        end=c.end,
        metadata=dict(c.metadata),
    )

"""The article query index: SQLite FTS5 in memory (BM25 ranking, filters, facets).

A derived index: the articles live in the worker's table; this index is
rebuilt from it when the worker starts and updated as articles are stored.
It holds each article's list view, its searchable text (title, entities,
keywords, body) and its filter fields; never the source of truth.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from agents.news.model import Article
from agents.news.normalize import words

SCHEMA = """
CREATE TABLE docs(
  rowid INTEGER PRIMARY KEY, article_id TEXT UNIQUE NOT NULL, published REAL NOT NULL,
  category TEXT, source TEXT NOT NULL, domain TEXT NOT NULL, language TEXT NOT NULL,
  brief BLOB NOT NULL);
CREATE INDEX docs_published ON docs(published DESC);
CREATE TABLE tags(rowid INTEGER NOT NULL, tag TEXT NOT NULL);
CREATE INDEX tags_tag ON tags(tag, rowid);
CREATE TABLE ents(rowid INTEGER NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL);
CREATE INDEX ents_rowid ON ents(rowid);
CREATE VIRTUAL TABLE fts USING fts5(
  title, entities, body, tokenize='porter unicode61 remove_diacritics 2');
"""
MAX_BODY_CHARS = 20_000  # indexed text per article (the table keeps the whole text)


@dataclass
class Filters:
    category: str | None = None
    source: str | None = None
    language: str | None = None
    tags: list[str] = field(default_factory=list)
    date_from: datetime | None = None
    date_to: datetime | None = None


@dataclass
class Page:
    total: int
    items: list[dict[str, Any]]
    facets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


class SqliteArticleIndex:
    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None
        self.generation = 0  # bumped on every change (read caches key on it)

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = sqlite3.connect(":memory:", isolation_level=None)
            self._db.executescript(SCHEMA)
        return self._db

    def __len__(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM docs").fetchone()[0])

    def upsert(self, article: Article) -> None:
        db = self.db
        row = db.execute(
            "SELECT rowid FROM docs WHERE article_id = ?", (article.article_id,)
        ).fetchone()
        db.execute("BEGIN")
        try:
            if row is not None:
                (rowid,) = row
                for table in ("docs", "tags", "ents", "fts"):
                    db.execute(f"DELETE FROM {table} WHERE rowid = ?", (rowid,))  # noqa: S608
            ents = article.enrichment.entities
            cur = db.execute(
                "INSERT INTO docs(article_id, published, category, source, domain, language, "
                "brief) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    article.article_id,
                    article.published_at.timestamp(),
                    article.category,
                    article.source.lower(),
                    article.source_domain.lower(),
                    article.language,
                    orjson.dumps(article.brief()),
                ),
            )
            rowid = cur.lastrowid
            db.executemany(
                "INSERT INTO tags(rowid, tag) VALUES (?, ?)",
                [(rowid, t.lower()) for t in dict.fromkeys(article.tags)],
            )
            db.executemany(
                "INSERT INTO ents(rowid, kind, name) VALUES (?, ?, ?)",
                [(rowid, "organizations", n) for n in ents.organizations]
                + [(rowid, "people", n) for n in ents.people]
                + [(rowid, "places", n) for n in ents.places],
            )
            entity_text = " ".join(
                [*ents.organizations, *ents.people, *ents.places, *article.enrichment.keywords]
            )
            db.execute(
                "INSERT INTO fts(rowid, title, entities, body) VALUES (?, ?, ?, ?)",
                (rowid, article.title, entity_text, article.text[:MAX_BODY_CHARS]),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self.generation += 1

    def delete(self, article_id: str) -> bool:
        db = self.db
        row = db.execute("SELECT rowid FROM docs WHERE article_id = ?", (article_id,)).fetchone()
        if row is None:
            return False
        db.execute("BEGIN")
        try:
            for table in ("docs", "tags", "ents", "fts"):
                db.execute(f"DELETE FROM {table} WHERE rowid = ?", (row[0],))  # noqa: S608
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self.generation += 1
        return True

    # -- queries ---------------------------------------------------------------------

    def _where(self, f: Filters) -> tuple[str, list[Any]]:
        clauses: list[str] = ["1"]
        args: list[Any] = []
        if f.category:
            clauses.append("d.category = ?")
            args.append(f.category)
        if f.source:
            clauses.append("(d.source = ? OR d.domain = ?)")
            args += [f.source.lower(), f.source.lower()]
        if f.language:
            clauses.append("d.language = ?")
            args.append(f.language)
        if f.date_from:
            clauses.append("d.published >= ?")
            args.append(f.date_from.timestamp())
        if f.date_to:
            clauses.append("d.published <= ?")
            args.append(f.date_to.timestamp())
        for tag in f.tags:
            clauses.append("EXISTS (SELECT 1 FROM tags t WHERE t.rowid = d.rowid AND t.tag = ?)")
            args.append(tag)
        return " AND ".join(clauses), args

    def latest(self, f: Filters, *, offset: int, limit: int) -> Page:
        where, args = self._where(f)
        total = self.db.execute(f"SELECT count(*) FROM docs d WHERE {where}", args).fetchone()[0]  # noqa: S608
        rows = self.db.execute(
            f"SELECT brief FROM docs d WHERE {where} "  # noqa: S608
            "ORDER BY d.published DESC, d.article_id LIMIT ? OFFSET ?",
            [*args, limit, offset],
        ).fetchall()
        return Page(int(total), [orjson.loads(r[0]) for r in rows])

    def search(self, query: str, f: Filters, *, offset: int, limit: int, facets: int = 10) -> Page:
        terms = list(dict.fromkeys(words(query)))[:32]
        if not terms:
            return Page(0, [], {})
        match = " ".join('"' + t.replace('"', '""') + '"' for t in terms)
        where, args = self._where(f)
        # only placeholders and fixed column names are interpolated below
        matched = (
            "WITH m AS (SELECT rowid, bm25(fts, 4.0, 2.0, 1.0) AS score FROM fts "  # noqa: S608
            f"WHERE fts MATCH ?) SELECT {{cols}} FROM m JOIN docs d ON d.rowid = m.rowid "
            f"WHERE {where}"
        )
        margs = [match, *args]
        db = self.db
        total = db.execute(matched.format(cols="count(*)"), margs).fetchone()[0]
        rows = db.execute(
            matched.format(cols="d.brief, m.score, d.rowid")
            + " ORDER BY m.score, d.published DESC LIMIT ? OFFSET ?",
            [*margs, limit, offset],
        ).fetchall()
        items = []
        for brief, score, rowid in rows:
            item = orjson.loads(brief)
            item["score"] = round(-float(score), 4)
            item["snippet"] = db.execute(
                "SELECT snippet(fts, 2, '[', ']', ' … ', 24) FROM fts WHERE fts MATCH ? "
                "AND rowid = ?",
                (match, rowid),
            ).fetchone()[0]
            items.append(item)
        out: dict[str, list[dict[str, Any]]] = {}
        for name, col in (
            ("category", "d.category"),
            ("source", "d.source"),
            ("language", "d.language"),
        ):
            q = (
                matched.format(cols=f"{col} AS v, count(*) AS n")
                + f" GROUP BY {col} ORDER BY n DESC, v LIMIT ?"
            )
            out[name] = [{"value": v, "count": n} for v, n in db.execute(q, [*margs, facets]) if v]
        q = (
            matched.format(cols="e.kind, e.name, count(*) AS n").replace(
                "JOIN docs d ON d.rowid = m.rowid",
                "JOIN docs d ON d.rowid = m.rowid JOIN ents e ON e.rowid = d.rowid",
            )
            + " GROUP BY e.kind, e.name ORDER BY n DESC, e.name"
        )
        for kind in ("organizations", "people", "places"):
            out[kind] = []
        for kind, name, n in db.execute(q, margs):
            if len(out[kind]) < facets:
                out[kind].append({"value": name, "count": n})
        return Page(int(total), items, out)

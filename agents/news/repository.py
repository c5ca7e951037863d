"""Typed access to the news state over the ``KeyValueStore`` port.

Key layout (one table): ``feed:<feed id>``, ``art:<article id>``,
``url:<sha of canonical URL>`` -> article id (the article's own URL and the URLs
of its duplicates), ``hash:<content sha>`` -> article id, ``sig:<article id>``
-> published time (8 bytes, float64) + MinHash signature (uint32 values).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from agents.news.model import Article, Feed
from agents.news.normalize import url_key
from enginedge_streams.errors import NotFoundError
from enginedge_streams.ports.key_value_store import KeyValueStore


class NewsRepository:
    def __init__(self, store: KeyValueStore) -> None:
        self.store = store

    # feeds
    def feed(self, feed_id: str) -> Feed | None:
        raw = self.store.get(f"feed:{feed_id}")
        return None if raw is None else Feed.model_validate_json(raw)

    def require_feed(self, feed_id: str) -> Feed:
        feed = self.feed(feed_id)
        if feed is None:
            raise NotFoundError(f"no feed {feed_id!r}", code="FEED_NOT_FOUND")
        return feed

    def save_feed(self, feed: Feed) -> None:
        self.store.put(f"feed:{feed.feed_id}", feed.model_dump_json().encode())

    def delete_feed(self, feed_id: str) -> None:
        self.store.delete(f"feed:{feed_id}")

    def feeds(self) -> list[Feed]:
        return [Feed.model_validate_json(v) for _, v in self.store.scan("feed:")]

    def feed_count(self) -> int:
        return len(self.store.keys("feed:"))

    # articles
    def article(self, article_id: str) -> Article | None:
        raw = self.store.get(f"art:{article_id}")
        return None if raw is None else Article.model_validate_json(raw)

    def require_article(self, article_id: str) -> Article:
        article = self.article(article_id)
        if article is None:
            raise NotFoundError(f"no article {article_id!r}", code="ARTICLE_NOT_FOUND")
        return article

    def save_article(self, article: Article) -> None:
        self.store.put(f"art:{article.article_id}", article.model_dump_json().encode())

    def has_article(self, article_id: str) -> bool:
        return self.store.get(f"art:{article_id}") is not None

    def delete_article(self, article: Article) -> None:
        """Remove an article, its signature and the URL/hash entries of it and its copies."""
        aid = article.article_id
        self.store.delete(f"art:{aid}")
        self.store.delete(f"sig:{aid}")
        keys = [f"url:{url_key(article.url)}", f"hash:{article.content_hash}"]
        for d in article.duplicates:
            keys.append(f"url:{url_key(d.url)}")
            if d.content_hash:
                keys.append(f"hash:{d.content_hash}")
        for key in keys:
            raw = self.store.get(key)
            if raw is not None and raw.decode() == aid:
                self.store.delete(key)

    def articles(self) -> Iterator[Article]:
        for _, raw in self.store.scan("art:"):
            yield Article.model_validate_json(raw)

    # exact-duplicate indexes
    def by_url(self, url_key: str) -> str | None:
        raw = self.store.get(f"url:{url_key}")
        return None if raw is None else raw.decode()

    def link_url(self, url_key: str, article_id: str) -> None:
        self.store.put(f"url:{url_key}", article_id.encode())

    def by_hash(self, content_hash: str) -> str | None:
        raw = self.store.get(f"hash:{content_hash}")
        return None if raw is None else raw.decode()

    def link_hash(self, content_hash: str, article_id: str) -> None:
        self.store.put(f"hash:{content_hash}", article_id.encode())

    # near-duplicate signatures
    def save_signature(self, article_id: str, published_ts: float, sig: bytes) -> None:
        self.store.put(f"sig:{article_id}", struct.pack("<d", published_ts) + sig)

    def signatures(self) -> Iterator[tuple[str, float, bytes]]:
        for key, raw in self.store.scan("sig:"):
            (ts,) = struct.unpack("<d", raw[:8])
            yield key[4:], ts, raw[8:]

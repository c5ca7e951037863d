"""The worker's derived in-memory indexes (search, near-duplicates), rebuilt from the table."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from agents.news.dedupe import NearDuplicateIndex
from agents.news.repository import NewsRepository
from agents.news.sqlite_article_index import SqliteArticleIndex

log = logging.getLogger("enginedge.news")


@dataclass
class NewsState:
    index: SqliteArticleIndex
    near: NearDuplicateIndex
    loaded: bool = False
    trend_generation: int = 0
    instance: str = field(default_factory=lambda: f"{time.time_ns():x}")

    def rebuild(self, repo: NewsRepository, now_ts: float) -> None:
        """Load every stored article into the search index and recent signatures into LSH."""
        n = 0
        for article in repo.articles():
            self.index.upsert(article)
            n += 1
        s = 0
        for article_id, ts, raw in repo.signatures():
            if not self.near.in_window(ts, now_ts):
                continue
            sig = self.near.from_bytes(raw)
            if sig is not None:
                self.near.add(article_id, sig, ts)
                s += 1
        self.loaded = True
        log.info("news indexes rebuilt: %d articles, %d recent signatures", n, s)


class NewsStateLoader:
    """Lifecycle component: rebuilds the indexes once the table is recovered."""

    def __init__(self, state: NewsState, repo: NewsRepository) -> None:
        self.state = state
        self.repo = repo

    async def start(self) -> None:
        self.state.rebuild(self.repo, time.time())

    async def stop(self) -> None:
        return None

"""The news worker's records: feeds with their poll state, articles, duplicate links."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

PollOutcome = Literal["ok", "not_modified", "unchanged", "error", "rate_limited", "never"]


class FeedState(BaseModel):
    """What the last polls of a feed did (shown by ``feed.list``)."""

    last_polled_at: datetime | None = None
    last_status: PollOutcome = "never"
    last_http_status: int | None = None
    last_error_code: str | None = None
    last_error: str | None = None
    last_success_at: datetime | None = None
    consecutive_failures: int = 0
    next_poll_at: datetime
    etag: str | None = None
    last_modified: str | None = None
    body_sha256: str | None = None
    resolved_url: str | None = None
    entries_seen: int = 0
    articles_new: int = 0
    duplicates: int = 0
    total_articles: int = 0
    polls: int = 0
    feed_title: str | None = None
    #: the last poll's document was malformed (XML error); then ``last_error_code`` is
    #: ``FEED_MALFORMED`` and ``last_error`` names the problem, and only then
    malformed: bool = False
    feed_problem: str | None = None  # the parser's problem with the last document read
    skipped: dict[str, int] = Field(
        default_factory=dict
    )  # last poll: entries not stored, by reason


class Feed(BaseModel):
    feed_id: str
    url: str
    name: str | None = None
    category: str | None = None
    tags: list[str] = Field(default_factory=list)
    poll_interval_seconds: int
    created_at: datetime
    state: FeedState


class Entities(BaseModel):
    organizations: list[str] = Field(default_factory=list)
    people: list[str] = Field(default_factory=list)
    places: list[str] = Field(default_factory=list)


class Enrichment(BaseModel):
    entities: Entities = Field(default_factory=Entities)
    keywords: list[str] = Field(default_factory=list)
    category: str | None = None
    category_source: Literal["feed", "classifier", "none"] = "none"


class DuplicateLink(BaseModel):
    """Another copy of the story (another feed or URL), linked to the first article."""

    url: str
    feed_id: str
    source: str
    title: str
    similarity: float
    kind: Literal["url", "content", "near"]
    seen_at: datetime
    content_hash: str | None = None


class Article(BaseModel):
    article_id: str
    url: str  # canonical
    original_url: str
    title: str
    summary: str
    text: str
    text_source: Literal["feed", "page", "summary"]
    published_at: datetime  # UTC
    published_estimated: bool = False  # the feed gave no date: the time we first saw it
    fetched_at: datetime
    language: str
    source: str
    source_domain: str
    feed_id: str
    author: str | None = None
    tags: list[str] = Field(default_factory=list)
    content_hash: str
    enrichment: Enrichment = Field(default_factory=Enrichment)
    duplicates: list[DuplicateLink] = Field(default_factory=list)
    emitted: bool = False  # published to the articles stream and trend counts

    @property
    def category(self) -> str | None:
        return self.enrichment.category

    def brief(self) -> dict[str, object]:
        """The list view (no full text)."""
        return {
            "article_id": self.article_id,
            "title": self.title,
            "url": self.url,
            "summary": self.summary[:500],
            "published_at": self.published_at.isoformat(),
            "source": self.source,
            "source_domain": self.source_domain,
            "language": self.language,
            "category": self.category,
            "tags": self.tags,
            "entities": self.enrichment.entities.model_dump(),
            "keywords": self.enrichment.keywords,
            "duplicate_count": len(self.duplicates),
        }

"""Payloads of the news worker's commands (validated; JSON Schemas in docs/schemas)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_URL = 2048
Window = Literal["1h", "24h", "7d"]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _clean_tags(value: list[str]) -> list[str]:
    out: list[str] = []
    for tag in value:
        t = " ".join(tag.split()).lower()
        if not t:
            raise ValueError("tags must not be blank")
        if t not in out:
            out.append(t)
    return out


class AddFeed(_Payload):
    """`feed.add`: start polling a feed (adding the same URL again updates it)."""

    url: str = Field(min_length=8, max_length=MAX_URL)
    name: str | None = Field(None, min_length=1, max_length=200)
    category: str | None = Field(None, min_length=1, max_length=64)
    tags: list[str] = Field(default_factory=list, max_length=20)
    poll_interval_seconds: int | None = Field(None, ge=1, le=86_400)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        if any(len(t) > 64 for t in value):
            raise ValueError("a tag is at most 64 characters")
        return _clean_tags(value)

    @field_validator("category")
    @classmethod
    def _category(cls, value: str | None) -> str | None:
        return None if value is None else " ".join(value.split()).lower()


class RemoveFeed(_Payload):
    """`feed.remove`: stop polling a feed (its articles stay)."""

    feed_id: str = Field(min_length=1, max_length=64)


class ListFeeds(_Payload):
    """`feed.list`: feeds with their last poll status."""

    category: str | None = Field(None, min_length=1, max_length=64)


class PollFeed(_Payload):
    """`feed.poll`: fetch a feed now (the polling timer sends these; callable by hand)."""

    feed_id: str = Field(min_length=1, max_length=64)
    scheduled_for: datetime | None = None  # set by the timer: skip if already polled for it
    force: bool = False  # ignore ETag/Last-Modified and poll even if not due


class PurgeArticles(_Payload):
    """`news.purge`: delete articles published before the retention (the timer sends one
    an hour when NEWS_RETENTION_DAYS is set)."""

    older_than_days: float | None = Field(None, gt=0, le=36_500)


class _Filters(_Payload):
    category: str | None = Field(None, min_length=1, max_length=64)
    source: str | None = Field(None, min_length=1, max_length=200)
    language: str | None = Field(None, min_length=2, max_length=8)
    tags: list[str] = Field(default_factory=list, max_length=10)
    date_from: AwareDatetime | None = None
    date_to: AwareDatetime | None = None
    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(20, ge=1, le=100)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return _clean_tags(value)

    @field_validator("category", "language")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return None if value is None else value.strip().lower()

    @model_validator(mode="after")
    def _range(self) -> _Filters:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from must not be after date_to")
        return self


class NewsFeed(_Filters):
    """`news.feed`: newest articles first, filtered and paged."""


class SearchNews(_Filters):
    """`news.search`: articles matching a query, by relevance, with facets."""

    query: str = Field(min_length=1, max_length=500)


class GetArticle(_Payload):
    """`news.get`: one article with its text, entities and duplicate links."""

    article_id: str = Field(min_length=1, max_length=64)


class Trending(_Payload):
    """`news.trending`: entities and keywords growing fastest against the previous window."""

    window: Window = "24h"
    limit: int = Field(10, ge=1, le=50)
    as_of: AwareDatetime | None = None  # default: now

"""News worker settings (env vars, read once by the composition root)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from enginedge_streams.settings import EnvSettings

DEFAULT_CATEGORIES = "business,technology,politics,science,health,sports,entertainment,world"


class NewsSettings(EnvSettings):
    news_default_poll_seconds: int = Field(
        900, ge=1, le=86_400, description="Poll interval of a feed added without one (seconds)."
    )
    news_min_poll_seconds: int = Field(
        60, ge=1, le=86_400, description="Shortest poll interval `feed.add` accepts (seconds)."
    )
    news_max_feeds: int = Field(1000, ge=1, description="Most feeds the worker accepts.")
    news_scheduler_tick_seconds: float = Field(
        5.0, gt=0, le=300, description="How often the polling timer looks for due feeds."
    )
    news_error_backoff_max_seconds: int = Field(
        21_600,
        ge=1,
        description="Upper bound of the wait after failed polls (interval doubled per failure).",
    )
    news_host_rate_per_minute: int = Field(
        30,
        ge=1,
        le=100_000,
        description="Requests per minute to one host (feeds and article pages), shared by every "
        "replica through Redis.",
    )
    news_fetch_timeout_seconds: float = Field(
        15.0, gt=0, le=300, description="Timeout of one feed or article fetch."
    )
    news_max_feed_bytes: int = Field(
        5_000_000, ge=1024, description="Largest feed document read (bytes)."
    )
    news_max_entries_per_poll: int = Field(
        200, ge=1, le=10_000, description="Most feed entries handled per poll (newest first)."
    )
    news_fulltext_min_chars: int = Field(
        600,
        ge=0,
        description="Entries whose feed text is shorter get their page fetched and the main "
        "text extracted (trafilatura). 0 turns page fetching off.",
    )
    news_fulltext_concurrency: int = Field(
        4, ge=1, le=64, description="Article pages fetched concurrently per poll."
    )
    news_max_article_chars: int = Field(
        100_000, ge=1000, description="Article text is cut to this many characters."
    )
    news_dedupe_threshold: float = Field(
        0.5,
        gt=0,
        le=1,
        description="MinHash Jaccard similarity of word shingles at or above which two articles "
        "are the same story (near-duplicate).",
    )
    news_dedupe_window_days: float = Field(
        14.0,
        gt=0,
        description="Near-duplicates are looked for among articles published this recently "
        "(exact URL/content duplicates: always).",
    )
    news_minhash_permutations: int = Field(
        128,
        ge=16,
        le=512,
        description="MinHash permutations (accuracy vs memory). Changing it leaves "
        "signatures stored with the old value out of near-duplicate search.",
    )
    news_enrich_timeout_seconds: float = Field(
        60.0, gt=0, le=600, description="Timeout of one call to the spaCy worker."
    )
    news_enrich_max_chars: int = Field(
        20_000, ge=100, le=100_000, description="Characters of an article sent to spaCy."
    )
    news_categories: str = Field(
        DEFAULT_CATEGORIES,
        description="Comma-separated categories given to articles whose feed has none (see "
        "NEWS_CATEGORY_CLASSIFIER; names other than the defaults are matched by name only "
        "with the `keywords` classifier).",
    )
    news_category_classifier: Literal["keywords", "spacy"] = Field(
        "keywords",
        description="How articles of feeds without a category are classified: `keywords` (a "
        "local keyword vote over NEWS_CATEGORIES) or `spacy` (the spaCy worker's "
        "`nlp.categorize_topic`, one more bus call per article).",
    )
    news_cache_ttl_seconds: float = Field(
        30.0, ge=0, le=86_400, description="TTL of cached read results in Redis (0: no cache)."
    )
    news_retention_days: float = Field(
        0,
        ge=0,
        le=36_500,
        description="Articles published longer ago are deleted (hourly `news.purge` from the "
        "timer), with their index entries. 0 keeps every article.",
    )
    news_trending_min_count: int = Field(
        2, ge=1, description="Mentions a term needs in the current window to be trending."
    )

    def categories(self) -> list[str]:
        return [c.strip().lower() for c in self.news_categories.split(",") if c.strip()]

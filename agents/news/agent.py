"""Declarations only: the news worker's tables, ports, commands, streams, mention agent and
polling timer."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta
from typing import Any

import faust
import orjson

from agents.news.bus_enricher import BusEnricher
from agents.news.dedupe import NearDuplicateIndex
from agents.news.faust_news_events import FaustNewsEvents
from agents.news.faust_trend_reader import FaustTrendReader
from agents.news.handlers import COMMANDS, FeedRules
from agents.news.http import install_routes
from agents.news.ingest import IngestConfig
from agents.news.poller import FeedPoller
from agents.news.read_cache import ReadCache
from agents.news.repository import NewsRepository
from agents.news.scheduler import FeedScheduler
from agents.news.settings import NewsSettings
from agents.news.sqlite_article_index import SqliteArticleIndex
from agents.news.state import NewsState, NewsStateLoader
from agents.news.trending import WINDOWS
from enginedge_streams.compute import shared_compute_pool
from enginedge_streams.container import Container
from enginedge_streams.runtime import WorkerRuntime
from enginedge_streams.safe_http import HttpSettings, SafeHttpClient, SafeHttpPolicy
from enginedge_streams.settings import load
from enginedge_streams.worker import Worker
from tables.kv import FaustKeyValueStore
from tables.news import count_mention, create_news_table, create_trend_tables

WORKER_TYPE = "news"
log = logging.getLogger("enginedge.news")


def ingest_config(settings: NewsSettings) -> IngestConfig:
    return IngestConfig(
        max_feed_bytes=settings.news_max_feed_bytes,
        max_entries=settings.news_max_entries_per_poll,
        fulltext_min_chars=settings.news_fulltext_min_chars,
        fulltext_concurrency=settings.news_fulltext_concurrency,
        max_article_chars=settings.news_max_article_chars,
        host_rate_per_minute=settings.news_host_rate_per_minute,
        backoff_max_seconds=settings.news_error_backoff_max_seconds,
    )


def feed_rules(settings: NewsSettings, policy: SafeHttpPolicy) -> FeedRules:
    return FeedRules(
        default_poll_seconds=settings.news_default_poll_seconds,
        min_poll_seconds=settings.news_min_poll_seconds,
        max_feeds=settings.news_max_feeds,
        trending_min_count=settings.news_trending_min_count,
        retention_days=settings.news_retention_days,
        url_policy=policy,
    )


def register(app: faust.App, container: Container) -> WorkerRuntime:
    settings = load(NewsSettings)
    worker = Worker(app, container, WORKER_TYPE)
    policy = dataclasses.replace(
        SafeHttpPolicy.from_settings(load(HttpSettings)),
        timeout_s=settings.news_fetch_timeout_seconds,
    )
    partitions = container.settings.topic_partitions
    table = create_news_table(app, partitions=partitions)
    trend_tables = create_trend_tables(app, WINDOWS, partitions=partitions)
    store = container.manage(container.provide("news_store", lambda: FaustKeyValueStore(table)))
    repo = NewsRepository(store)
    clock = worker.clock()
    state = NewsState(
        index=SqliteArticleIndex(),
        near=NearDuplicateIndex(
            threshold=settings.news_dedupe_threshold,
            num_perm=settings.news_minhash_permutations,
            window_seconds=settings.news_dedupe_window_days * 86_400,
        ),
    )
    container.manage(NewsStateLoader(state, repo))  # after the store's own start (key index)
    http = container.manage(container.provide("http", lambda: SafeHttpClient(policy)))
    articles, mentions_topic = worker.event_publisher("articles"), worker.topic("mentions")
    events = container.provide("news_events", lambda: FaustNewsEvents(articles, mentions_topic))
    cache = container.cache("news") if settings.news_cache_ttl_seconds > 0 else None
    enricher = container.provide(
        "enricher",
        lambda: BusEnricher(  # the spaCy worker over the bus, counted as an external call
            worker.bus_caller(),
            categories=settings.categories(),
            timeout=settings.news_enrich_timeout_seconds,
            max_chars=settings.news_enrich_max_chars,
            on_call=lambda api, error: worker.metrics.external_call(api, error=error),
            classifier=settings.news_category_classifier,
        ),
    )
    compute = shared_compute_pool(container)  # started/stopped by the runtime
    poller = FeedPoller(
        repo=repo,
        http=http,
        limiter=container.rate_limiter(),
        enricher=enricher,
        events=events,
        state=state,
        clock=clock,
        config=ingest_config(settings),
        on_fetch=lambda api, error: worker.metrics.external_call(api, error=error),
        compute=compute,
    )
    container.redis()  # readiness includes Redis, as for every worker
    scheduler = FeedScheduler(
        repo,
        worker.command_sender(),
        clock,
        purge_every=timedelta(hours=1) if settings.news_retention_days > 0 else None,
    )

    async def send_due_polls() -> None:
        sent = await scheduler.tick()
        if sent:
            log.info("sent %d feed.poll command(s)", sent, extra={"event": "feed_poll"})

    worker.every(settings.news_scheduler_tick_seconds, send_due_polls, name="feed-scheduler")
    _declare_mention_counter(app, mentions_topic, trend_tables, state)
    runtime = worker.serve(
        COMMANDS,
        {
            "repo": repo,
            "clock": clock,
            "rules": feed_rules(settings, policy),
            "poller": poller,
            "compute": compute,
            "state": state,
            "cache": ReadCache(cache, ttl_seconds=settings.news_cache_ttl_seconds),
            "trends": FaustTrendReader(trend_tables),
        },
    )
    install_routes(runtime)
    return runtime


def _declare_mention_counter(
    app: faust.App, mentions_topic: Any, trend_tables: dict[str, Any], state: NewsState
) -> None:
    @app.agent(mentions_topic, name="news-mentions")
    async def count_mentions(stream: Any) -> None:
        """Counts each mention into the tumbling trend tables (keyed by term)."""
        async for event in stream.events():
            try:
                mention = orjson.loads(event.message.value)
                key, display = str(mention["k"]), str(mention["d"])
            except (orjson.JSONDecodeError, KeyError, TypeError):
                log.warning("ignoring an undecodable mention at offset %s", event.message.offset)
                continue
            count_mention(trend_tables, key, display)
            state.trend_generation += 1

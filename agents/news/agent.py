"""Wiring only: the news worker's tables, ports, commands, streams, mention agent and timer."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta
from typing import Any

import faust
import orjson

from agents.news.bus_enricher import BusEnricher
from agents.news.dedupe import NearDuplicateIndex
from agents.news.fakes import SystemClock
from agents.news.faust_news_events import FaustCommandSender, FaustNewsEvents
from agents.news.handlers import COMMANDS, FeedRules
from agents.news.http import install_routes
from agents.news.ingest import FeedPoller, IngestConfig
from agents.news.read_cache import ReadCache
from agents.news.repository import NewsRepository
from agents.news.scheduler import FeedScheduler
from agents.news.settings import NewsSettings
from agents.news.sqlite_article_index import SqliteArticleIndex
from agents.news.state import NewsState, NewsStateLoader
from enginedge_streams.compute import shared_compute_pool
from enginedge_streams.container import Container
from enginedge_streams.runtime import command_worker
from enginedge_streams.safe_http import HttpSettings, SafeHttpClient, SafeHttpPolicy
from enginedge_streams.settings import load
from enginedge_streams.topics import WorkerTopics
from tables.news import (
    FaustTrendReader,
    count_mention,
    create_news_table,
    create_trend_tables,
    news_store,
)

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


def bus_enricher(
    container: Container, settings: NewsSettings, metrics_ref: dict[str, Any]
) -> BusEnricher:
    """The spaCy worker over the bus; calls counted in the worker's external-call metrics."""

    def on_call(api: str, error: bool) -> None:
        if "metrics" in metrics_ref:
            metrics_ref["metrics"].external_call(api, error=error)

    return BusEnricher(
        container.bus(inbox=WORKER_TYPE),
        categories=settings.categories(),
        timeout=settings.news_enrich_timeout_seconds,
        max_chars=settings.news_enrich_max_chars,
        on_call=on_call,
        classifier=settings.news_category_classifier,
    )


def register(app: faust.App, container: Container) -> Any:
    settings = load(NewsSettings)
    policy = dataclasses.replace(
        SafeHttpPolicy.from_settings(load(HttpSettings)),
        timeout_s=settings.news_fetch_timeout_seconds,
    )
    partitions = container.settings.topic_partitions
    table = create_news_table(app, partitions=partitions)
    trend_tables = create_trend_tables(app, partitions=partitions)
    store = container.manage(container.provide("news_store", lambda: news_store(table)))
    repo = NewsRepository(store)
    clock = container.provide("clock", SystemClock)
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
    topics = WorkerTopics(WORKER_TYPE, container.settings.topic_prefix)
    articles_name = topics.extra("articles")  # noqa: S610  # a topic name, not Django
    mentions_name = topics.extra("mentions")  # noqa: S610
    articles_topic = app.topic(articles_name, partitions=partitions)
    mentions_topic = app.topic(mentions_name, partitions=partitions)
    events = container.provide(
        "news_events", lambda: FaustNewsEvents(articles_topic, mentions_topic)
    )
    cache = container.cache("news") if settings.news_cache_ttl_seconds > 0 else None
    metrics_ref: dict[str, Any] = {}
    enricher = container.provide("enricher", lambda: bus_enricher(container, settings, metrics_ref))
    poller = FeedPoller(
        repo=repo,
        http=http,
        limiter=container.rate_limiter(),
        enricher=enricher,
        events=events,
        state=state,
        clock=clock,
        config=ingest_config(settings),
        on_fetch=lambda api, error: metrics_ref["metrics"].external_call(api, error=error),
        compute=shared_compute_pool(container, WORKER_TYPE),  # started/stopped by the runtime
    )
    container.redis()  # readiness includes Redis, as for every worker
    runtime = command_worker(
        app,
        container,
        worker_type=WORKER_TYPE,
        commands=COMMANDS,
        dependencies={
            "repo": repo,
            "clock": clock,
            "rules": feed_rules(settings, policy),
            "poller": poller,
            "compute": poller.compute,
            "state": state,
            "cache": ReadCache(cache, ttl_seconds=settings.news_cache_ttl_seconds),
            "trends": FaustTrendReader(trend_tables),
        },
    )
    metrics_ref["metrics"] = runtime.metrics
    assert articles_name == runtime.topics.extra("articles")  # noqa: S610  # same naming
    names = getattr(app, "enginedge_topics", None)
    if names is not None:
        names.extend([articles_name, mentions_name])

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

    scheduler = FeedScheduler(
        repo,
        FaustCommandSender(runtime.requests_topic),
        clock,
        purge_every=timedelta(hours=1) if settings.news_retention_days > 0 else None,
    )

    @app.timer(interval=settings.news_scheduler_tick_seconds)  # type: ignore[untyped-decorator]  # faust is untyped
    async def poll_timer() -> None:
        if not runtime.started.is_set() or app.rebalancing:
            return
        try:
            sent = await scheduler.tick()
        except Exception:  # a timer must keep running; the next tick retries
            log.exception("feed scheduler tick failed")
            return
        if sent:
            log.info("sent %d feed.poll command(s)", sent, extra={"event": "feed_poll"})

    install_routes(runtime)
    runtime.feed_scheduler = scheduler  # type: ignore[attr-defined]
    runtime.news_state = state  # type: ignore[attr-defined]
    return runtime

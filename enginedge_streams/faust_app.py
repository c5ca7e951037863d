"""The Faust app factory: one app (app id = consumer group) per worker type."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import faust
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from enginedge_streams import logs
from enginedge_streams.durability import track
from enginedge_streams.errors import ConfigError
from enginedge_streams.faust_patches import (  # Faust's internals: patched there only
    CommitGuardConsumer,
    TransportApp,
    disable_read_offset_gaps,
    started_producer,
)
from enginedge_streams.settings import Settings, broker_message_max_bytes, topic_size_config
from enginedge_streams.topics import app_id

log = logging.getLogger("enginedge.app")

__all__ = ["CommitGuardConsumer", "EnginEdgeApp", "TrackedTable", "create_app", "ensure_topics"]


class TrackedTable(faust.Table):  # type: ignore[type-arg]  # faust is untyped
    """Every table of our apps: its changelog writes join the running command's
    tracked writes (``enginedge_streams.durability``), awaited before its result."""

    def send_changelog(self, *args: Any, **kwargs: Any) -> Any:
        fut = super().send_changelog(*args, **kwargs)
        if started_producer(self.app) is not None:  # not in an agent's test_context
            track(fut)
        return fut


class EnginEdgeApp(TransportApp):
    """A Faust app that creates its command topics before its consumer subscribes.

    (Faust ignores a subscribed topic that does not exist yet until the next
    rebalance, so a fresh worker would sit idle on an empty assignment.)
    """

    enginedge_settings: Settings
    enginedge_topics: list[str]
    enginedge_source_topics: list[str]
    enginedge_runtimes: dict[str, Any]

    async def on_first_start(self) -> None:
        self.conf.datadir.mkdir(parents=True, exist_ok=True)
        await super().on_first_start()

    async def on_start(self) -> None:
        await super().on_start()
        await ensure_topics(self.enginedge_settings, self.enginedge_topics)
        # Changelog topics too, with Faust's own settings (compaction, windows'
        # retention), before the consumer subscribes: a table whose changelog is
        # missing from the first metadata fails its first write with
        # PartitionsMismatch ("... changelog topic has 0 partitions").
        for table in list(self.tables.values()):
            await table.changelog_topic.maybe_declare()
        disable_read_offset_gaps(self.consumer, set(self.enginedge_source_topics))


async def ensure_topics(settings: Settings, names: list[str], *, attempts: int = 600) -> None:
    """Create missing topics with the configured partitions; wait for the broker if down."""
    if not names:
        return
    for attempt in range(attempts):
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            new = [
                NewTopic(
                    n,
                    settings.topic_partitions,
                    settings.topic_replication_factor,
                    topic_configs=topic_size_config(settings.bus_max_message_bytes),
                )
                for n in dict.fromkeys(names)
                if n not in existing
            ]
            if new:
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics(new)
            described = await admin.describe_topics(list(dict.fromkeys(names)))
            for topic in described:
                count = len(topic.get("partitions") or [])
                if count and count != settings.topic_partitions:
                    raise ConfigError(
                        f"TOPIC_PARTITIONS={settings.topic_partitions} but topic "
                        f"{topic['topic']!r} has {count} partitions; set TOPIC_PARTITIONS="
                        f"{count} or recreate the topic (tables must match their source topic)"
                    )
            return
        except (KafkaError, OSError) as exc:
            if attempt % 10 == 0:
                log.warning("waiting for Kafka at %s: %s", settings.kafka_brokers, exc)
            await asyncio.sleep(1.0)
        finally:
            with contextlib.suppress(Exception):
                await admin.close()


def create_app(settings: Settings, worker_type: str) -> EnginEdgeApp:
    ident = app_id(worker_type, settings.topic_prefix)
    app = EnginEdgeApp(
        ident,
        broker=settings.broker_url,
        store="rocksdb://",
        datadir=str(settings.data_dir / ident),
        autodiscover=False,
        key_serializer="raw",
        value_serializer="raw",
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication_factor,
        web_port=settings.web_port_for(worker_type),
        web_host=settings.web_host,
        web_bind=settings.web_host,
        web_tables_enabled=settings.web_tables_enabled,
        web_in_thread=False,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.broker_session_timeout,
        broker_heartbeat_interval=settings.broker_heartbeat_interval,
        broker_commit_interval=settings.broker_commit_interval,
        broker_request_timeout=max(90.0, settings.broker_session_timeout + 10),
        producer_acks=-1,
        producer_linger=settings.producer_linger_ms / 1000.0,
        # The bus's size budget (settings.BUS_MAX_MESSAGE_BYTES), compression on.
        producer_max_request_size=settings.bus_max_message_bytes,
        producer_compression_type=settings.compression_type,
        consumer_max_fetch_size=broker_message_max_bytes(settings.bus_max_message_bytes),
        stream_wait_empty=True,
        table_standby_replicas=0,
        logging_config=logs.logging_config(worker_type, settings.log_level),
        loghandlers=[],
        Table=TrackedTable,
    )
    app.enginedge_settings = settings
    app.enginedge_topics = []
    app.enginedge_source_topics = []
    app.enginedge_runtimes = {}
    return app

"""The Faust app factory: one app (app id = consumer group) per worker type."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from typing import Any

import faust
import faust.streams as faust_streams
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from faust.transport import by_url
from faust.transport.drivers import aiokafka as faust_aiokafka
from mode.utils.futures import notify

from enginedge_streams import logs
from enginedge_streams.durability import track
from enginedge_streams.errors import ConfigError
from enginedge_streams.settings import Settings, broker_message_max_bytes, topic_size_config
from enginedge_streams.topics import app_id

log = logging.getLogger("enginedge.app")


class _NoGapReadOffsets(dict):  # type: ignore[type-arg]
    """Faust's per-partition "last read offset", disabled for our command topics.

    Faust drops a fetched message whose offset is below this value and, when a
    fetched offset jumps ahead of it, records the skipped range as a "gap" that
    it later commits past (meant for compacted topics). Around restarts and
    rebalances its fetcher can run before the seek to committed offsets
    (faust-streaming #596), so a range of commands that was never processed is
    committed as a gap: measured here as ~60 lost commands per partition after
    a SIGKILL. Command topics are never compacted and carry no transaction
    markers, so a gap there is always Faust's own loss. Returning ``None``
    turns both the drop and the gap off: a re-fetched message is delivered
    again (the status table makes that harmless) instead of being lost.
    """

    def __init__(self, topics: set[str]) -> None:
        super().__init__()
        self.topics = topics

    def __getitem__(self, tp: object) -> int | None:
        if getattr(tp, "topic", None) in self.topics:
            return None
        return self.get(tp)


class CommitGuardConsumer(faust_aiokafka.Consumer):
    """Faust's Kafka consumer, committing only commands our processor finished.

    Faust acks (and so commits) command messages it never handed to our agent:
    around a rebalance its stream skips the queued messages of an older
    consumer generation, or fetched while flow control is suspended, and acks
    them "so the lag does not grow". When the partition stays with this
    process or comes back to it, those commands were committed without ever
    running: 74-535 of 2,000 lost after a broker outage with a second worker
    joining (reliability scenario 4). Here an ack of a source-topic message
    counts only if the runtime marked it :meth:`finished`; any other ack
    releases it (``wait_empty`` does not wait for it) without counting its
    offset, so the commit stops before it and, after the seek to committed
    offsets that follows every assignment, it is fetched and run again (the
    status table answers a command that had in fact completed).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._finished: weakref.WeakSet[Any] = weakref.WeakSet()
        self.uncounted = 0  # acks of messages never finished by the processor
        self._floor: dict[Any, int | None] = {}  # committed offset at assignment
        self._holes: dict[Any, tuple[int, int]] = {}  # tp -> (base, commit rounds seen)
        self.refetches = 0

    async def seek_to_committed(self) -> Any:
        """Seek to the committed offsets, remembering each one as the partition's floor."""
        committed = await super().seek_to_committed()
        for tp, offset in committed.items():
            self._floor[tp] = offset if offset is not None and offset >= 0 else None
        return committed

    async def on_partitions_revoked(self, revoked: Any) -> None:
        for tp in revoked:
            self._floor.pop(tp, None)
        await super().on_partitions_revoked(revoked)

    def _new_offset(self, tp: Any) -> int | None:
        """The offset to commit, never past a command that was not finished.

        Faust commits the first run of consecutive acked offsets. It checks that
        the run starts at the committed offset only when that offset is known
        and non-zero, and lets a one-offset hole through; after a revocation it
        forgets the committed offset, so the run after a hole is committed — a
        range of commands the fetcher skipped during a rebalance was lost this
        way (scenario 4). For command topics the run must start exactly at the
        last committed offset of the current assignment, else nothing is
        committed (and a revoked partition is not committed from here at all).
        """
        if tp.topic in self.guarded_topics:
            if tp not in self._floor:
                return None
            base = self._committed_offset[tp]
            if base is None:
                base = self._floor[tp]
            acked = self._acked[tp]
            if base is not None and acked and min(acked) > base:
                self._hole_at_head(tp, base, min(acked))
                return None
            self._holes.pop(tp, None)
        offset: int | None = super()._new_offset(tp)
        return offset

    def _hole_at_head(self, tp: Any, base: int, first_acked: int) -> None:
        """Offsets ``base .. first_acked - 1`` are not finished. In flight: wait.
        Never delivered (the fetcher skipped them) for three commit rounds: fetch
        them again from ``base`` (what follows is answered from the status table)."""
        if any(m.tp == tp and base <= m.offset < first_acked for m in list(self._unacked_messages)):
            self._holes.pop(tp, None)
            return
        seen, rounds = self._holes.get(tp, (base, 0))
        rounds = rounds + 1 if seen == base else 1
        if rounds < 3:
            self._holes[tp] = (base, rounds)
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not called from the consumer's commit (a unit test)
            return
        self._holes.pop(tp, None)
        self.refetches += 1
        log.warning(
            "offsets %d..%d of %s were never delivered to the agent; fetching them again",
            base,
            first_acked - 1,
            tp,
        )
        self._refetch = loop.create_task(self.seek(tp, base))

    @property
    def guarded_topics(self) -> list[str]:
        """The app's command (source) topics."""
        return getattr(self.app, "enginedge_source_topics", [])

    def finished(self, message: Any) -> None:
        """The processor is done with this message: its offset may be committed."""
        self._finished.add(message)

    def ack(self, message: Any) -> bool:
        if message.topic in self.guarded_topics and message not in self._finished:
            if not message.acked:
                message.acked = True
                self.uncounted += 1
                self._unacked_messages.discard(message)
                notify(self._waiting_for_ack)
            return False
        self._finished.discard(message)
        return bool(super().ack(message))


# Faust's Cython stream iterator inlines ``Consumer.ack`` (it appends to the
# consumer's acked offsets itself), which would bypass CommitGuardConsumer.ack;
# the pure-Python iterator it accelerates calls it. Same semantics otherwise.
faust_streams._CStreamIterator = None  # type: ignore[attr-defined]


class KafkaTransport(faust_aiokafka.Transport):
    Consumer = CommitGuardConsumer


class TrackedTable(faust.Table):  # type: ignore[type-arg]  # faust is untyped
    """Every table of our apps: its changelog writes join the running command's
    tracked writes (``enginedge_streams.durability``), awaited before its result."""

    def send_changelog(self, *args: Any, **kwargs: Any) -> Any:
        fut = super().send_changelog(*args, **kwargs)
        producer = getattr(self.app, "_producer", None)
        if producer is not None and producer.started:  # not in an agent's test_context
            track(fut)
        return fut


class EnginEdgeApp(faust.App):
    """A Faust app that creates its command topics before its consumer subscribes.

    (Faust ignores a subscribed topic that does not exist yet until the next
    rebalance, so a fresh worker would sit idle on an empty assignment.)
    """

    enginedge_settings: Settings
    enginedge_topics: list[str]
    enginedge_source_topics: list[str]
    enginedge_runtimes: dict[str, Any]

    def _new_transport(self) -> Any:
        driver = by_url(self.conf.broker_consumer[0])
        if driver is faust_aiokafka.Transport:
            driver = KafkaTransport
        return driver(self.conf.broker_consumer, self)

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
        consumer: Any = self.consumer
        consumer._read_offset = _NoGapReadOffsets(set(self.enginedge_source_topics))


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

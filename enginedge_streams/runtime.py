"""Faust wiring shared by every worker: topics, status table, agent, timers.

A worker's ``agents/<worker>/agent.py`` declares itself with
:class:`enginedge_streams.worker.Worker` (extra topics, timers, metrics, then
``serve(commands, dependencies)``), which builds the :class:`WorkerRuntime`
here; everything Faust-specific happens here, once. The web pages
(``enginedge_streams.web``) are installed by the composition root
(``enginedge_streams.bootstrap``), so this module imports nothing from ``web``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import faust
from faust.types import TP
from mode import Service

from enginedge_streams.codec import encode_dead_letter, encode_result
from enginedge_streams.compute import needs_compute, shared_compute_pool
from enginedge_streams.container import Container
from enginedge_streams.faust_patches import (
    CachedPrometheusMonitor,
    CommitGuardConsumer,
    committed_offsets,
    crash,
    kafka_consumer,
)
from enginedge_streams.handlers import CommandSpec, bind
from enginedge_streams.heartbeat import Heartbeat, WorkerState, status_topic
from enginedge_streams.membership import MembershipGate
from enginedge_streams.metrics import LoopLagSampler, WorkerMetrics
from enginedge_streams.policy import RetryPolicy
from enginedge_streams.ports.compute_pool import ComputePool
from enginedge_streams.ports.result_sink import ResultSink
from enginedge_streams.processor import CommandProcessor, IncomingMessage
from enginedge_streams.records import DeadLetter, Result
from enginedge_streams.system import SYSTEM_COMMANDS, WorkerInfo
from enginedge_streams.topics import WorkerTopics
from tables.status import FaustStatusStore, create_status_table

log = logging.getLogger("enginedge.runtime")


class FaustResultSink:
    """The ``ResultSink`` port on Faust topics (buffered; flushed before commits)."""

    def __init__(self, app: faust.App, topics: WorkerTopics, partitions: int) -> None:
        self.app = app
        self.results = topics.results  # sent straight through the producer
        self.dlq = app.topic(topics.dlq, partitions=partitions)
        self.requests = app.topic(topics.requests, partitions=partitions)

    async def publish_result(
        self, result: Result, *, reply_to: str | None, encoded: bytes | None = None
    ) -> None:
        """Hand the result to the producer (keyed by command id, default partitioner).

        Straight to Faust's producer rather than ``Topic.send``: one result per
        command, and Faust's per-message wrapping (future message, callbacks,
        send sensors) cost more than the send itself. Offsets are committed only
        after the producer is flushed, as for any Faust send.
        """
        key = result.command_id.encode()
        value = encoded if encoded is not None else encode_result(result)
        producer = self.app.producer
        topics = [self.results]
        if reply_to and reply_to != self.results:
            topics.append(reply_to)
        for topic in topics:
            sent: Any = await producer.send(topic, key, value, None, None, None)
            sent.add_done_callback(_log_undelivered)  # an asyncio future from aiokafka

    async def publish_dead_letter(self, letter: DeadLetter) -> None:
        key = (letter.command_id or "").encode() or None
        await self.dlq.send(key=key, value=encode_dead_letter(letter))

    async def resubmit(self, command_id: str, raw: bytes) -> None:
        await self.requests.send(key=command_id.encode(), value=raw)


def _log_undelivered(sent: asyncio.Future[Any]) -> None:
    if not sent.cancelled() and sent.exception() is not None:
        log.error("a result could not be delivered: %s", sent.exception())


class CommitHook(faust.Sensor):
    """Writes the in-flight commands' RUNNING records when an offset commit starts.

    Faust calls ``on_commit_initiated`` at the start of every commit, before it
    flushes the producer and commits offsets: the records are durable before
    any commit can pass a command still in flight (faust #606).
    """

    def __init__(self, processor: CommandProcessor) -> None:
        super().__init__()
        self.processor = processor

    def on_commit_initiated(self, consumer: Any) -> Any:
        self.processor.persist_in_flight()
        return None


class WorkerRuntime:
    """Everything one worker type owns inside its Faust app."""

    def __init__(
        self,
        app: faust.App,
        container: Container,
        *,
        worker_type: str,
        commands: Sequence[CommandSpec],
        dependencies: Mapping[str, Any],
        metrics: WorkerMetrics | None = None,
    ) -> None:
        s = container.settings
        self.app = app
        self.container = container
        self.worker_type = worker_type
        self.topics = WorkerTopics(worker_type, s.topic_prefix)
        self.info = WorkerInfo(worker_type)
        #: created by the caller when adapters built before the runtime report to it
        self.metrics = metrics or WorkerMetrics(worker_type)
        self.specs = [*SYSTEM_COMMANDS, *commands]
        #: CPU-heavy steps run here: for workers whose handlers take ``compute`` or that
        #: pass one (from ``shared_compute_pool``) to their adapters; started and stopped here.
        self.compute: ComputePool | None = dependencies.get("compute")
        if self.compute is None and needs_compute(self.specs):
            self.compute = shared_compute_pool(container)
        self.lag_sampler = LoopLagSampler(self.metrics.loop_lag.observe)
        self.handlers = bind(
            self.specs,
            {
                **dependencies,
                "worker_info": self.info,
                **({"compute": self.compute} if self.compute is not None else {}),
            },
        )
        self.requests_topic = app.topic(self.topics.requests, partitions=s.topic_partitions)
        self.table = create_status_table(app, partitions=s.topic_partitions)
        self.store = FaustStatusStore(self.table)
        self.sink: ResultSink = container.provide(
            "result_sink", lambda: FaustResultSink(app, self.topics, s.topic_partitions)
        )
        self.status_topic = app.topic(status_topic(s.topic_prefix), partitions=s.topic_partitions)
        self.declare_topics(
            self.topics.requests, self.topics.results, self.topics.dlq, status_topic(s.topic_prefix)
        )
        sources = getattr(app, "enginedge_source_topics", None)  # absent on a plain faust.App
        if sources is not None:
            sources.append(self.topics.requests)
        self.processor = CommandProcessor(
            worker_type=worker_type,
            handlers=self.handlers,
            store=self.store,
            sink=self.sink,
            metrics=self.metrics,
            policy=RetryPolicy(
                s.retry_max_attempts, s.retry_backoff_base_ms / 1000, s.retry_backoff_max_ms / 1000
            ),
            default_timeout_s=s.command_timeout_seconds,
            max_command_bytes=s.max_command_bytes,
            max_result_bytes=s.max_result_bytes,
            artifacts=container.artifact_store(),  # claim checks (enginedge_streams.claim_check)
            claim_check_max_bytes=s.claim_check_max_bytes,
        )
        self.processor.on_fatal = self._fatal
        self.processor.owns_partition = self.owns_partition
        self.gate = MembershipGate(
            app,
            session_timeout=s.broker_session_timeout,
            max_hold=max(300.0, 10 * s.broker_session_timeout),
        )
        #: synchronous HTTP routes -> command type (``web.command_routes``), for the API docs
        self.command_routes: dict[str, str] = {}
        self.started = asyncio.Event()
        self.start_error: str | None = None
        self._generation = -1
        self.metrics.watch_lag(self.consumer_lag)
        # Faust's own sensors (events, messages, commits, rebalances, table ops) in the same
        # registry, so one scrape of /metrics has both.
        app.monitor = CachedPrometheusMonitor(metrics=self.metrics.faust_metrics())
        app.sensors.add(CommitHook(self.processor))

    def declare_topics(self, *names: str) -> None:
        """Topics the app creates (configured partitions) before its consumer subscribes."""
        declared = getattr(self.app, "enginedge_topics", None)  # absent on a plain faust.App
        if declared is not None:
            declared.extend(n for n in names if n not in declared)

    async def fatal(self, exc: BaseException) -> None:
        """Stop the worker without acking the message in hand (redelivered after restart)."""
        await self._fatal(exc)

    async def _fatal(self, exc: BaseException) -> None:
        """Crash the worker without acking: the message is redelivered after restart."""
        crash(self.app, exc)  # mode.Service.crash, scheduled on the loop
        await asyncio.Event().wait()  # block this actor until shutdown cancels it

    # -- Kafka facts -------------------------------------------------------------------

    def assignment(self) -> set[Any]:
        try:
            return {tp for tp in self.app.consumer.assignment() if tp.topic == self.topics.requests}
        except Exception:
            return set()

    def finished(self, message: Any) -> None:
        """The processor is done with the message: Faust's ack of it may be committed."""
        consumer = kafka_consumer(self.app)
        if isinstance(consumer, CommitGuardConsumer):
            consumer.finished(message)

    def owns_partition(self, partition: int) -> bool:
        """Whether the requests topic's partition is assigned to this process right now
        (always, when no Kafka consumer runs, e.g. in an agent's test_context)."""
        consumer = kafka_consumer(self.app)
        if consumer is None or not consumer.started:
            return True
        try:
            return TP(self.topics.requests, partition) in consumer.assignment()
        except Exception:  # no assignment yet
            return False

    def committed_offsets(self) -> dict[int, int]:
        committed = committed_offsets(self.app.consumer)
        return {
            tp.partition: int(off)
            for tp, off in list(committed.items())
            if tp.topic == self.topics.requests and off is not None
        }

    def consumer_lag(self) -> dict[tuple[str, int], int]:
        lag: dict[tuple[str, int], int] = {}
        committed = self.committed_offsets()
        for tp in self.assignment():
            try:
                high = self.app.consumer.highwater(tp)
            except Exception:  # no fetch yet for this partition
                log.debug("no highwater yet for %s", tp)
                continue
            if high is None or high < 0:
                continue
            lag[(tp.topic, tp.partition)] = max(0, int(high) - committed.get(tp.partition, 0))
        return lag

    # -- wiring ----------------------------------------------------------------------

    def install(self) -> None:
        """Wire the command agent, timers and components into the app (once, from
        :meth:`enginedge_streams.worker.Worker.serve`)."""
        app = self.app
        runtime = self
        runtimes = getattr(app, "enginedge_runtimes", None)  # absent on a plain faust.App
        if runtimes is not None:
            runtimes[self.worker_type] = self
        container = self.container
        processor = self.processor
        concurrency = container.settings.max_concurrency

        @app.agent(
            self.requests_topic, name=f"{self.worker_type}-commands", concurrency=concurrency
        )
        async def process_commands(stream: Any) -> None:
            gate = runtime.gate
            async for event in stream.events():
                if not runtime.started.is_set():
                    await runtime.started.wait()
                msg = event.message
                if not await gate.admit(msg.generation_id):
                    continue  # not finished: its offset is not committed here
                # Held until the result is published (after its status record is
                # acknowledged): at most MAX_CONCURRENCY commands between a handler's start
                # and a durable terminal record, the bound on re-runs after a crash.
                await processor.handle_message(
                    IncomingMessage(msg.key, msg.value, msg.topic, msg.partition, msg.offset)
                )
                runtime.finished(msg)

        @app.timer(interval=container.settings.redrive_interval_seconds)  # type: ignore[untyped-decorator]  # faust is untyped
        async def redrive() -> None:
            await runtime.redrive_once()

        @app.timer(interval=container.settings.health_check_interval)  # type: ignore[untyped-decorator]  # faust is untyped
        async def heartbeat() -> None:
            await runtime.publish_heartbeat()

        class Components(Service):
            async def on_start(self) -> None:
                await runtime.publish_heartbeat("starting")
                await runtime.start_components()
                await runtime.publish_heartbeat()

            async def on_stop(self) -> None:
                await runtime.publish_heartbeat("stopping")
                await runtime.stop_components()

        app.service(Components)

    def heartbeat(self, state: WorkerState | None = None) -> Heartbeat:
        in_flight = len(self.processor.in_flight)
        return Heartbeat(
            worker_type=self.worker_type,
            instance_id=self.info.instance_id,
            version=self.info.version,
            status=state or ("busy" if in_flight else "idle"),
            in_flight=in_flight,
            assigned_partitions=sorted(tp.partition for tp in self.assignment()),
            port=self.container.settings.web_port_for(self.worker_type),
            interval_seconds=self.container.settings.health_check_interval,
            processed=self.processor.processed,
        )

    async def publish_heartbeat(self, state: WorkerState | None = None) -> None:
        """Announce this instance on `worker.status` (never fails the worker)."""
        beat = self.heartbeat(state)
        try:
            await self.status_topic.send(
                key=beat.instance_id.encode(), value=beat.model_dump_json().encode()
            )
        except Exception as exc:  # the broker may be down; the next beat will tell
            log.warning("heartbeat not published: %s", exc)

    async def start_components(self) -> None:
        """Start the worker's adapters (after table recovery), then let commands through."""
        self.lag_sampler.start()
        if self.compute is not None:
            try:
                await self.compute.start()
            except Exception as exc:
                self.start_error = f"compute pool: {exc}"
                log.exception("the compute pool failed to start")
        for component in self.container.components:
            try:
                await component.start()
            except Exception as exc:
                self.start_error = f"{type(component).__name__}: {exc}"
                log.exception("component failed to start: %s", self.start_error)
        self.started.set()
        log.info("%s worker started", self.worker_type, extra={"event": "started"})

    async def stop_components(self) -> None:
        for component in reversed(self.container.components):
            try:
                await component.stop()
            except Exception:
                log.exception("component failed to stop")
        if self.compute is not None:
            try:
                await self.compute.stop()
            except Exception:
                log.exception("the compute pool failed to stop")
        await self.lag_sampler.stop()

    async def redrive_once(self) -> int:
        if self.app.rebalancing or not self.started.is_set():
            return 0
        generation = getattr(self.app, "consumer_generation_id", 0)
        if generation != self._generation:
            self._generation = generation
            n = self.processor.rebuild_pending()
            if n:
                log.info("%d non-terminal commands in the status table", n)
        candidates = self.processor.redrive_candidates(self.committed_offsets())
        return await self.processor.redrive(candidates) if candidates else 0

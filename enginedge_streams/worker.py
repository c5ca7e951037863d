"""The public API a worker's ``agents/<worker>/agent.py`` is written against.

``register(app, container)`` declares the worker and nothing else::

    worker = Worker(app, container, WORKER_TYPE)
    events = worker.event_publisher("events")        # worker.<type>.events, created at start
    timer = PhaseTimer(repo, worker.command_sender(), worker.clock())
    worker.every(s.tick_seconds, timer.tick, name="phase-timer")
    runtime = worker.serve(COMMANDS, {"repo": repo, "events": events, ...})

Everything is known before the runtime exists — the worker's topics, its
metrics (``worker.metrics``: pass ``worker.metrics.external_call`` to an adapter's
constructor), a sender to its own requests topic — so adapters get their
collaborators in their constructors, and nothing is patched on afterwards.
Timers declared with :meth:`Worker.every` run only once the worker has started
and not during a rebalance, and a failing tick is logged, never fatal.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import faust

from enginedge_streams.adapters.faust_command_sender import FaustCommandSender
from enginedge_streams.adapters.faust_event_publisher import FaustEventPublisher
from enginedge_streams.adapters.kafka_bus_caller import KafkaBusCaller
from enginedge_streams.adapters.system_clock import SystemClock
from enginedge_streams.container import Container
from enginedge_streams.handlers import CommandSpec
from enginedge_streams.metrics import WorkerMetrics
from enginedge_streams.ports.bus_caller import BusCaller
from enginedge_streams.ports.clock import Clock
from enginedge_streams.runtime import WorkerRuntime
from enginedge_streams.topics import WorkerTopics

log = logging.getLogger("enginedge.worker")

Tick = Callable[[], Awaitable[Any]]


class Worker:
    """One worker type's declarations on a Faust app; :meth:`serve` builds its runtime."""

    def __init__(self, app: faust.App, container: Container, worker_type: str) -> None:
        self.app = app
        self.container = container
        self.worker_type = worker_type
        self.settings = container.settings
        self.topics = WorkerTopics(worker_type, self.settings.topic_prefix)
        #: the worker's Prometheus metrics, for adapters that report external calls
        self.metrics = WorkerMetrics(worker_type)
        self.runtime: WorkerRuntime | None = None
        self._extra_topics: list[str] = []
        self._timers: list[tuple[float, Tick, str]] = []
        self._on_started: list[tuple[Tick, str]] = []

    # -- topics and the shared adapters ---------------------------------------------------

    def topic(self, suffix: str = "", *, name: str | None = None) -> Any:
        """Declare an extra topic: ``worker.<type>.<suffix>``, or the full ``name`` (with the
        topic prefix already applied). Created with the configured partitions at start."""
        full = name or self.topics.extra(suffix)  # noqa: S610 - a topic name, not SQL
        if full not in self._extra_topics:
            self._extra_topics.append(full)
        return self.app.topic(full, partitions=self.settings.topic_partitions)

    def event_publisher(self, suffix: str = "events", *, name: str | None = None) -> Any:
        """An ``EventPublisher`` on an extra topic of this worker (one per topic)."""
        topic = self.topic(suffix, name=name)
        key = f"events:{topic.get_topic_name()}"
        return self.container.provide(key, lambda: FaustEventPublisher(topic))

    def command_sender(self) -> Any:
        """A ``CommandSender`` (overridable as ``command_sender``): to this worker's own
        requests topic as declared, to any other worker's after creating its topics."""
        own = self.app.topic(self.topics.requests, partitions=self.settings.topic_partitions)
        return self.container.provide(
            "command_sender",
            lambda: FaustCommandSender(self.app, self.settings, known={self.worker_type: own}),
        )

    def bus_caller(self) -> BusCaller:
        """The ``BusCaller`` on the container's bus client (its inbox is this worker's)."""
        caller: BusCaller = self.container.provide(
            "bus_caller", lambda: KafkaBusCaller(self.container.bus(inbox=self.worker_type))
        )
        return caller

    def clock(self) -> Clock:
        clock: Clock = self.container.provide("clock", SystemClock)
        return clock

    # -- timers ------------------------------------------------------------------------------

    def every(self, interval: float, tick: Tick, *, name: str) -> None:
        """Run ``tick`` every ``interval`` seconds once the worker has started, skipping
        ticks during a rebalance; an exception is logged and the next tick runs as usual."""
        self._timers.append((interval, tick, name))

    def on_started(self, action: Tick, *, name: str) -> None:
        """Run ``action`` once, after the worker's components have started."""
        self._on_started.append((action, name))

    # -- the runtime -------------------------------------------------------------------------

    def serve(
        self, commands: Sequence[CommandSpec], dependencies: Mapping[str, Any]
    ) -> WorkerRuntime:
        """Build the runtime (command agent, status table, results, redrive, heartbeats)."""
        if self.runtime is not None:
            raise RuntimeError(f"the {self.worker_type} worker is already served")
        runtime = self.runtime = WorkerRuntime(
            self.app,
            self.container,
            worker_type=self.worker_type,
            commands=commands,
            dependencies=dependencies,
            metrics=self.metrics,
        )
        runtime.install()
        runtime.declare_topics(*self._extra_topics)
        for interval, tick, name in self._timers:
            self._install_timer(runtime, interval, tick, name)
        for action, name in self._on_started:
            self._install_once(runtime, action, name)
        return runtime

    def _install_timer(
        self, runtime: WorkerRuntime, interval: float, tick: Tick, name: str
    ) -> None:
        app = self.app

        async def guarded() -> None:
            if not runtime.started.is_set() or app.rebalancing:
                return
            try:
                await tick()
            except Exception:  # a timer keeps running; the next tick retries
                log.exception("%s: %s tick failed", self.worker_type, name)

        guarded.__name__ = guarded.__qualname__ = f"{self.worker_type}_{name}".replace("-", "_")
        app.timer(interval=interval)(guarded)

    def _install_once(self, runtime: WorkerRuntime, action: Tick, name: str) -> None:
        async def once() -> None:
            await runtime.started.wait()
            try:
                await action()
            except Exception:
                log.exception("%s: %s failed", self.worker_type, name)

        once.__name__ = once.__qualname__ = f"{self.worker_type}_{name}".replace("-", "_")
        self.app.task(once)

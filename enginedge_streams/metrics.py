"""Prometheus metrics with the deployment guide's names.

One ``CollectorRegistry`` per worker app, so tests can build many apps in one
process. Process memory and CPU are read at scrape time.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import psutil
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from enginedge_streams.tasks import cancel_and_wait

disable_created_metrics()  # type: ignore[no-untyped-call]  # no `*_created` series: dashboards don't use them

DURATION_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


LOOP_LAG_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5, 5, 10, 30,
)  # fmt: skip


class LoopLagSampler:
    """Measures event-loop lag continuously: sleep ``interval_s``, record the overshoot.

    A loop busy with synchronous work wakes the sampler late by exactly the time
    nothing else (``/ready``, heartbeats, other commands) could run. ``recent``
    keeps the last samples for the monitoring page and the benchmark.
    """

    def __init__(self, observe: Callable[[float], None], interval_s: float = 0.25) -> None:
        self.observe = observe
        self.interval_s = interval_s
        self.recent: deque[float] = deque(maxlen=4096)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._sample(), name="loop-lag")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def _sample(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.interval_s)
            lag = max(0.0, loop.time() - before - self.interval_s)
            self.recent.append(lag)
            self.observe(lag)


class _ProcessCollector(Collector):
    def __init__(self, worker_type: str) -> None:
        self.worker_type = worker_type
        self.proc = psutil.Process(os.getpid())
        self.proc.cpu_percent(None)  # prime the sampler

    def collect(self) -> Iterable[GaugeMetricFamily]:
        mem = GaugeMetricFamily(
            "worker_memory_usage_bytes",
            "Resident memory of the worker process.",
            labels=["worker_type"],
        )
        mem.add_metric([self.worker_type], float(self.proc.memory_info().rss))
        cpu = GaugeMetricFamily(
            "worker_cpu_usage_percent",
            "CPU use of the worker process since the last scrape.",
            labels=["worker_type"],
        )
        cpu.add_metric([self.worker_type], float(self.proc.cpu_percent(None)))
        return [mem, cpu]


class _LagCollector(Collector):
    def __init__(
        self, worker_type: str, read_lag: Callable[[], dict[tuple[str, int], int]]
    ) -> None:
        self.worker_type = worker_type
        self.read_lag = read_lag

    def collect(self) -> Iterable[GaugeMetricFamily]:
        lag = GaugeMetricFamily(
            "worker_consumer_lag",
            "Messages not yet consumed, per assigned partition.",
            labels=["worker_type", "topic", "partition"],
        )
        for (topic, partition), value in sorted(self.read_lag().items()):
            lag.add_metric([self.worker_type, topic, str(partition)], float(value))
        return [lag]


class _Rescaled(Collector):
    """Re-exports another registry, converting millisecond histograms to seconds.

    promtool rejects abbreviated units and non-base units in names, so
    ``faust_events_runtime_ms`` becomes ``faust_events_runtime_seconds`` with its
    bucket bounds and sum divided by 1000.
    """

    def __init__(self, source: CollectorRegistry, renames: dict[str, tuple[str, float]]) -> None:
        self.source = source
        self.renames = renames

    def collect(self) -> Iterable[Metric]:
        for family in self.source.collect():
            if family.name not in self.renames:
                yield family
                continue
            new, scale = self.renames[family.name]
            out = Metric(new, family.documentation, family.type, family.unit)
            for s in family.samples:
                labels = dict(s.labels)
                value = s.value
                if s.name.endswith("_bucket") and labels.get("le") not in (None, "+Inf"):
                    labels["le"] = repr(float(labels["le"]) * scale)
                if s.name.endswith("_sum"):
                    value = s.value * scale
                name = new + s.name[len(family.name) :]
                out.add_sample(name, labels, value, s.timestamp, s.exemplar)
            yield out


class WorkerMetrics:
    def __init__(self, worker_type: str, registry: CollectorRegistry | None = None) -> None:
        self.worker_type = worker_type
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.commands = Counter(
            "worker_commands",
            "Commands finished, by final status.",
            ["worker_type", "status"],
            registry=r,
        )
        self.duration = Histogram(
            "worker_command_duration_seconds",
            "Time from pick-up to result.",
            ["worker_type"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.api_calls = Counter(
            "worker_external_api_calls",
            "Calls to external APIs.",
            ["worker_type", "api"],
            registry=r,
        )
        self.api_errors = Counter(
            "worker_external_api_errors",
            "Failed calls to external APIs.",
            ["worker_type", "api"],
            registry=r,
        )
        self.dead_letters = Counter(
            "worker_dead_letters", "Messages written to the DLQ.", ["worker_type"], registry=r
        )
        self.duplicates = Counter(
            "worker_duplicate_commands",
            "Deliveries of a command id that had already finished or was in flight.",
            ["worker_type"],
            registry=r,
        )
        self.redriven = Counter(
            "worker_redriven_commands",
            "Non-terminal commands re-driven after their offset was committed.",
            ["worker_type"],
            registry=r,
        )
        self.retries = Counter(
            "worker_command_retries",
            "Retries after a retryable error.",
            ["worker_type"],
            registry=r,
        )
        self.in_flight = Gauge(
            "worker_commands_in_flight",
            "Commands being processed now.",
            ["worker_type"],
            registry=r,
        )
        self.tokens = Counter(
            "worker_tokens", "LLM tokens used.", ["worker_type", "model", "kind"], registry=r
        )
        self.cost = Counter(
            "worker_cost_usd",
            "Estimated spend on external models.",
            ["worker_type", "model"],
            registry=r,
        )
        self.loop_lag = Histogram(
            "worker_event_loop_lag_seconds",
            "How late the event loop woke a sleeping task (sampled every 0.25 s): time the "
            "loop could not answer anything.",
            ["worker_type"],
            buckets=LOOP_LAG_BUCKETS,
            registry=r,
        ).labels(worker_type)
        r.register(_ProcessCollector(worker_type))
        # Label children bound once (hot path), and pre-created so dashboards see zeros.
        self._by_status = {
            s: self.commands.labels(worker_type, s)
            for s in ("COMPLETED", "FAILED", "DEAD_LETTERED")
        }
        self._duration = self.duration.labels(worker_type)
        self.in_flight_gauge = self.in_flight.labels(worker_type)
        self.duplicate = self.duplicates.labels(worker_type).inc
        self.retry = self.retries.labels(worker_type).inc
        self.dead_letter = self.dead_letters.labels(worker_type).inc
        self.redrive = self.redriven.labels(worker_type).inc

    def faust_metrics(self) -> Any:
        """Faust's own sensor metrics, exposed through this registry under lint-clean names."""
        from faust.sensors.prometheus import FaustMetrics

        source = CollectorRegistry(auto_describe=True)
        metrics = FaustMetrics.create(source, "faust")
        self.registry.register(
            _Rescaled(source, {"faust_events_runtime_ms": ("faust_events_runtime_seconds", 0.001)})
        )
        return metrics

    def watch_lag(self, read_lag: Callable[[], dict[tuple[str, int], int]]) -> None:
        self.registry.register(_LagCollector(self.worker_type, read_lag))

    def observe_command(self, status: str, seconds: float) -> None:
        child = self._by_status.get(status) or self.commands.labels(self.worker_type, status)
        child.inc()
        self._duration.observe(seconds)

    def external_call(self, api: str, *, error: bool = False) -> None:
        self.api_calls.labels(self.worker_type, api).inc()
        if error:
            self.api_errors.labels(self.worker_type, api).inc()

    def render(self, *extra: CollectorRegistry) -> bytes:
        return b"".join(generate_latest(reg) for reg in (self.registry, *extra))

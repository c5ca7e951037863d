"""The gateway's ``Metrics`` hooks on the worker's Prometheus metrics."""

from __future__ import annotations

from agents.llm.gateway import Metrics
from enginedge_streams.metrics import WorkerMetrics


class PrometheusLlmMetrics(Metrics):
    def __init__(self, metrics: WorkerMetrics) -> None:
        self.m = metrics

    def external_call(self, api: str, *, error: bool = False) -> None:
        self.m.external_call(api, error=error)

    def tokens(self, model: str, prompt: int, completion: int) -> None:
        self.m.tokens.labels(self.m.worker_type, model, "prompt").inc(prompt)
        self.m.tokens.labels(self.m.worker_type, model, "completion").inc(completion)

    def cost(self, model: str, usd: float) -> None:
        self.m.cost.labels(self.m.worker_type, model).inc(usd)

"""Topic naming: the deployment guide's `worker.<type>.{requests,results,dlq}`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WorkerTopics:
    worker_type: str
    prefix: str = ""

    @property
    def requests(self) -> str:
        return f"{self.prefix}worker.{self.worker_type}.requests"

    @property
    def results(self) -> str:
        return f"{self.prefix}worker.{self.worker_type}.results"

    @property
    def dlq(self) -> str:
        return f"{self.prefix}worker.{self.worker_type}.dlq"

    def extra(self, name: str) -> str:
        """Another topic of this worker, e.g. `events` -> worker.<type>.events."""
        return f"{self.prefix}worker.{self.worker_type}.{name}"


def orchestrator_events_topic(prefix: str = "") -> str:
    """The orchestrator's status changes (keyed by request id; the CLI follows it)."""
    return f"{prefix}orchestrator.events"


def app_id(worker_type: str, prefix: str = "") -> str:
    """Faust app id and consumer group of one worker type."""
    return f"{prefix}enginedge-{worker_type}"

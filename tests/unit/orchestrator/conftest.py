"""A service over in-memory fakes, a manual clock and a static worker catalog."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from agents.orchestrator.engine import Engine, Limits
from agents.orchestrator.fakes import StaticCatalog
from agents.orchestrator.library import WorkflowLibrary
from agents.orchestrator.service import OrchestratorService
from agents.orchestrator.settings import OrchestratorSettings
from enginedge_streams.heartbeat import Heartbeat
from enginedge_streams.records import ErrorInfo, Result, Status
from enginedge_streams.system import Ping
from enginedge_streams.testing.clock import FixedClock
from enginedge_streams.testing.key_value_store import InMemoryKeyValueStore
from enginedge_streams.worker_registry import WorkerRegistry


class Echo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=1000)
    n: int | None = None


class Anything(BaseModel):
    model_config = ConfigDict(extra="allow")


CATALOG = StaticCatalog(
    {
        "alpha": {"echo.say": Echo, "system.ping": Ping},
        "beta": {"echo.say": Echo, "system.ping": Ping, "any.thing": Anything},
        "gamma": None,  # a worker whose commands cannot be listed
    }
)
REPLY_TO = "worker.orchestrator.replies"


class Harness:
    def __init__(self, **limits: Any) -> None:
        self.clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
        self.requests = InMemoryKeyValueStore()
        self.instances = InMemoryKeyValueStore()
        self.settings = OrchestratorSettings()
        self.registry = WorkerRegistry()
        self.library = WorkflowLibrary(CATALOG)
        self.engine = Engine(Limits(**{"backoff_s": 0.5, **limits}), reply_to=REPLY_TO)
        self.service = OrchestratorService(
            library=self.library,
            catalog=CATALOG,
            engine=self.engine,
            requests=self.requests,
            instances=self.instances,
            registry=self.registry,
            settings=self.settings,
            clock=self.clock,
        )

    def beat(self, worker_type: str, instance: str | None = None, **fields: Any) -> None:
        self.service.on_heartbeat(
            Heartbeat(
                worker_type=worker_type,
                instance_id=instance or f"{worker_type}-1",
                version="test",
                status=fields.pop("status", "idle"),
                interval_seconds=fields.pop("interval_seconds", 10.0),
                sent_at=fields.pop("sent_at", self.clock.now()),
                **fields,
            )
        )

    def reply(
        self,
        command_id: str,
        result: Any = None,
        *,
        status: Status = Status.COMPLETED,
        code: str = "",
        retryable: bool = False,
    ) -> list[Any]:
        error = (
            ErrorInfo(code=code, message=f"{code} happened", retryable=retryable) if code else None
        )
        return self.service.on_result(
            Result(
                command_id=command_id,
                correlation_id=command_id.split(".", 1)[0],
                worker_type="x",
                command_type="x",
                status=status,
                result=result,
                error=error,
                started_at=self.clock.now(),
                finished_at=self.clock.now(),
                processing_ms=1.0,
                attempts=1,
            )
        )


@pytest.fixture
def h() -> Harness:
    harness = Harness()
    harness.beat("alpha")
    harness.beat("beta")
    return harness

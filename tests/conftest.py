"""Shared fixtures: unique topic prefixes, the real local stack, worker processes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from tests.support.stack import KAFKA, ensure_stack
from tests.support.workers import WorkerProcess

# Dummy secrets in, and a session-end scan proving none leaked (logs, reports, topics).
pytest_plugins = ["tests.support.secrets_scan"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = str(item.fspath)
        if "/integration/" in path or "/reliability/" in path:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def stack() -> None:
    """Kafka and Redis, started if needed (the same code as `enginedge stack up`)."""
    ensure_stack("kafka", "redis")


@pytest.fixture
def prefix() -> str:
    """A unique topic/app prefix so every test has its own topics and groups."""
    return f"t{uuid.uuid4().hex[:10]}."


def _worker_factory(prefix: str, root: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start workers on ``prefix`` with their data and logs under ``root``; stop them after."""
    started: list[WorkerProcess] = []

    def make(
        worker_type: str,
        *,
        env: dict[str, str] | None = None,
        data_dir: Path | None = None,
        start: bool = True,
        name: str | None = None,
    ) -> WorkerProcess:
        n = len(started)
        worker = WorkerProcess(
            worker_type=worker_type,
            prefix=prefix,
            data_dir=data_dir or root / f"data-{n}",
            log_path=root / f"{name or worker_type}-{n}.log",
            env=env or {},
        )
        started.append(worker)
        if start:
            worker.start()
        return worker

    yield make
    for worker in started:
        worker.stop(timeout=20)


@pytest.fixture
def worker_factory(
    stack: None, tmp_path: Path, prefix: str
) -> Iterator[Callable[..., WorkerProcess]]:
    yield from _worker_factory(prefix, tmp_path)


@pytest.fixture
async def bus(stack: None, prefix: str) -> AsyncIterator[object]:
    from enginedge_streams.client import BusClient

    client = BusClient([KAFKA], prefix=prefix, partitions=4)
    await client.start()
    yield client
    await client.stop()


@pytest.fixture(scope="module")
def module_prefix() -> str:
    return f"m{uuid.uuid4().hex[:10]}."


@pytest.fixture(scope="module")
def module_worker_factory(
    stack: None, tmp_path_factory: pytest.TempPathFactory, module_prefix: str
) -> Iterator[Callable[..., WorkerProcess]]:
    """Like worker_factory, but the workers live for the whole test module."""
    yield from _worker_factory(module_prefix, tmp_path_factory.mktemp("module-workers"))


@pytest.fixture
async def module_bus(stack: None, module_prefix: str) -> AsyncIterator[object]:
    """A bus client on the module's topic prefix (a fresh client per test: one event loop each)."""
    from enginedge_streams.client import BusClient

    client = BusClient([KAFKA], prefix=module_prefix, partitions=4)
    await client.start()
    yield client
    await client.stop()

from __future__ import annotations

import uuid

import pytest

from tests.reliability.harness import FULL, Oracle, private_kafka, stop_all
from tests.support.stack import REDIS_URL


@pytest.fixture(scope="module")
def broker(stack, tmp_path_factory):
    """A private single-node KRaft broker: scenarios may kill, pause and restart it."""
    kafka = private_kafka(tmp_path_factory.mktemp("broker"))
    kafka.start(timeout=120)
    yield kafka
    kafka.stop()


@pytest.fixture(autouse=True)
def _stop_workers():
    """No scenario leaves a worker running (they would load every later test)."""
    yield
    stop_all()


@pytest.fixture
def oracle(broker) -> Oracle:
    return Oracle(broker.address, REDIS_URL, prefix=f"r{uuid.uuid4().hex[:8]}.")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`make test` runs the quick scenarios; `make reliability` (RELIABILITY_SCALE=full) all."""
    if FULL:
        return
    keep, drop = [], []
    for item in items:
        (drop if item.get_closest_marker("full_only") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep

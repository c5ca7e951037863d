"""The worker images, run for real with podman against the local stack (`make deploy-test`).

Gated: these run only when DEPLOY_TEST=1 (set by `make deploy-test` and by the CI's
one-image check), because building the images takes minutes per worker. DEPLOY_WORKERS
(comma list, default: every registered worker) picks the images; each must have been
built by `make image` (scripts/build-image.sh) first, a missing one fails the test.

Per worker, in one container (host network, the image's own non-root user):
/ready, one real command produced with kcat and answered COMPLETED (read with kcat),
the image's HEALTHCHECK, `enginedge --help`, SIGTERM within the grace period, and the
RocksDB volume surviving the container: a new container on the same volume still
serves the command's status after the changelog records were deleted from Kafka, so it
can only come from the table's files. Figures go to var/images/deploy-figures.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import agents
from tests.deploy.containers import (
    COMMANDS,
    KAFKA,
    WorkerContainer,
    consume_result_with_kcat,
    http_get,
    image,
    image_exists,
    podman,
    podman_available,
    produce_with_kcat,
    rss_kib,
    wait_ready,
)
from tests.deploy.support import ROOT

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("DEPLOY_TEST") != "1", reason="container tests: `make deploy-test`"
    ),
    pytest.mark.timeout(900),
]

WORKERS = [
    w.strip()
    for w in os.environ.get("DEPLOY_WORKERS", ",".join(agents.available())).split(",")
    if w.strip()
]
GRACE_SECONDS = 60  # terminationGracePeriodSeconds / stop_grace_period of the manifests
READY_TIMEOUT = float(os.environ.get("DEPLOY_READY_TIMEOUT", "240"))
FIGURES = ROOT / "var/images/deploy-figures.json"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def record(worker_type: str, **figures: Any) -> None:
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    data.setdefault(worker_type, {}).update(figures)
    FIGURES.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


async def _delete_changelog_records(prefix: str) -> int:
    """Delete every record of the prefix's changelog topics (the tables' Kafka copy)."""
    from aiokafka import TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.consumer import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA)
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await consumer.start()
    await admin.start()
    try:
        topics = [t for t in await consumer.topics() if t.startswith(prefix) and "changelog" in t]
        parts = [
            TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()
        ]
        ends = await consumer.end_offsets(parts)
        todo = {tp: off for tp, off in ends.items() if off > 0}
        if todo:
            await admin.delete_records(todo)
        after = await consumer.beginning_offsets(list(todo))
        assert all(after[tp] == off for tp, off in todo.items()), (after, todo)
        return sum(todo.values())
    finally:
        await admin.close()
        await consumer.stop()


@pytest.fixture(scope="module", autouse=True)
def _podman_and_stack() -> None:
    assert podman_available(), "podman is installed by scripts/install-container-tools.sh"
    from tests.support.stack import ensure_stack

    ensure_stack("kafka", "redis")


@pytest.fixture(params=WORKERS)
def container(request: pytest.FixtureRequest) -> Iterator[WorkerContainer]:
    worker_type = request.param
    assert image_exists(image(worker_type)), f"build it first: make image WORKER={worker_type}"
    prefix = f"d{uuid.uuid4().hex[:10]}."
    volume = f"ee-deploy-{uuid.uuid4().hex[:8]}"
    podman("volume", "create", volume)
    env = {"DATABASE_URL": os.environ.get("DEPLOY_DATABASE_URL", "")}
    c = WorkerContainer(worker_type, prefix, free_port(), volume, env=env)
    yield c
    c.remove()
    podman("volume", "rm", "--force", volume, check=False)


def test_worker_image_end_to_end(container: WorkerContainer) -> None:
    w = container.worker_type
    out = podman("run", "--rm", image(w), "enginedge", "--help")
    assert "Usage" in out and "submit" in out, out
    user = podman("run", "--rm", image(w), "id", "-u").strip()
    assert user == "1001", "the image runs as the non-root user 1001"

    started = time.monotonic()
    container.run()
    try:
        ready_s = wait_ready(container.url, READY_TIMEOUT, alive=container.running)
    except AssertionError:
        print(container.logs()[-6000:])
        raise
    time.sleep(5)  # let start-up settle before sampling idle memory
    record(w, ready_seconds=round(ready_s, 1), idle_rss_mib=round(rss_kib(container.name) / 1024))
    info = container.inspect()
    assert info["Config"]["User"] == "1001:1001"

    # The image's HEALTHCHECK, exactly as the engine runs it.
    health = info["Config"].get("Healthcheck") or {}
    assert "enginedge-healthcheck" in " ".join(health.get("Test", [])), health
    hc = podman("healthcheck", "run", container.name, check=False)
    assert "unhealthy" not in hc, hc
    assert podman("exec", container.name, *health["Test"][1:], check=False) is not None

    # One real command produced by kcat, its result read back by kcat.
    command_type, payload = COMMANDS[w]
    command_id = f"deploy-{w}-{uuid.uuid4().hex[:12]}"
    produce_with_kcat(
        f"{container.prefix}worker.{w}.requests",
        command_id,
        {"command_id": command_id, "command_type": command_type, "payload": payload},
    )
    result = consume_result_with_kcat(f"{container.prefix}worker.{w}.results", command_id, 180)
    assert result["status"] == "COMPLETED", result
    status, body = http_get(f"{container.url}/commands/{command_id}")
    assert status == 200 and json.loads(body)["status"] == "COMPLETED", body[:500]

    # SIGTERM (podman stop) ends the worker cleanly, well within the grace period.
    t0 = time.monotonic()
    podman("stop", "--time", str(GRACE_SECONDS), container.name, timeout=GRACE_SECONDS + 30)
    stop_s = time.monotonic() - t0
    state = container.inspect()["State"]
    logs = container.logs()
    record(w, stop_seconds=round(stop_s, 1), exit_code=state["ExitCode"])
    assert stop_s < GRACE_SECONDS - 5, f"took {stop_s:.1f}s: killed, not stopped"
    assert state["ExitCode"] in (0, 143), (state, logs[-3000:])
    assert "Traceback" not in logs[-20000:], logs[-6000:]

    # The RocksDB volume outlives the container: delete the changelog records, run a new
    # container on the same volume, and the command's status is still served.
    deleted = asyncio.run(_delete_changelog_records(container.prefix))
    assert deleted > 0, "the status table has a changelog topic with the command's record"
    podman("rm", container.name)
    container.name = f"{container.name}-2"
    container.run()
    try:
        wait_ready(container.url, READY_TIMEOUT, alive=container.running)
    except AssertionError:
        print(container.logs()[-6000:])
        raise
    status, body = http_get(f"{container.url}/commands/{command_id}")
    assert status == 200, (status, body[:500], container.logs()[-4000:])
    assert json.loads(body)["status"] == "COMPLETED"
    record(w, total_seconds=round(time.monotonic() - started, 1))

"""The worker images, run for real with podman against the local stack (`make deploy-test`).

Gated: these run only when DEPLOY_TEST=1 (set by `make deploy-test` and by the CI's
one-image check), because building the images takes minutes per worker. DEPLOY_WORKERS
(comma list, default: every registered worker) picks the images; each must have been
built by `make image` (scripts/build-image.sh) first, a missing one fails the test.

Per worker, in one container (host network, the image's own non-root user):
/ready, one real command produced with kcat and answered COMPLETED (read with kcat),
the image's HEALTHCHECK, `enginedge --help`, SIGTERM within the grace period, and the
RocksDB volume surviving the container: the stopped worker's table files on the volume
hold the command's record (read with rocksdict in a throwaway container, no Kafka), and a
new container on the same volume serves the command's status. (Deleting the changelog
instead is refused by Faust itself: ConsistencyError, persisted offset > highwater.)
Figures go to var/images/deploy-figures.json.
"""

from __future__ import annotations

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
    COMPANIONS,
    DATA_DIR,
    MORE_COMMANDS,
    WorkerContainer,
    check_result,
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


#: Run in a throwaway container on the stopped worker's volume: find the command's key in
#: the command-status table's RocksDB files (read-only) and print the stored record.
READ_TABLE = """
import json, pathlib, sys
from rocksdict import AccessType, Options, Rdict
key = sys.argv[1].encode()
for db in sorted(pathlib.Path(sys.argv[2]).rglob("*command-status*.db")):
    table = Rdict(str(db), Options(raw_mode=True), access_type=AccessType.read_only())
    try:
        for k, v in table.items():
            if key in k:
                print(json.dumps({"db": str(db), "value": v.decode(errors="replace")}))
                raise SystemExit(0)
    finally:
        table.close()
raise SystemExit("not found")
"""


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
    c = WorkerContainer(worker_type, prefix, free_port(), volume)
    companions = []
    for other in COMPANIONS.get(worker_type, []):
        assert image_exists(image(other)), f"{worker_type} calls {other}: make image WORKER={other}"
        companion_volume = f"ee-deploy-{uuid.uuid4().hex[:8]}"
        podman("volume", "create", companion_volume)
        companion = WorkerContainer(other, prefix, free_port(), companion_volume)
        companion.run()
        companions.append(companion)
    for companion in companions:
        wait_ready(companion.url, READY_TIMEOUT, alive=companion.running)
    yield c
    c.remove()
    for companion in companions:
        companion.remove()
        podman("volume", "rm", "--force", companion.volume, check=False)
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
        print(container.problems())
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

    # One real command produced by kcat, its result read back by kcat (some workers: more).
    for command_type, payload in [COMMANDS[w], *MORE_COMMANDS.get(w, [])]:
        command_id = f"deploy-{w}-{uuid.uuid4().hex[:12]}"
        produce_with_kcat(
            f"{container.prefix}worker.{w}.requests",
            command_id,
            {"command_id": command_id, "command_type": command_type, "payload": payload},
        )
        topic = f"{container.prefix}worker.{w}.results"
        result = consume_result_with_kcat(topic, command_id, 180)
        assert result["status"] == "COMPLETED", result
        record(w, **check_result(w, command_type, result))
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

    # The RocksDB volume outlives the container: the stopped worker's table files on the
    # volume hold the command (read directly with rocksdict, no Kafka), and a new container
    # on the same volume serves its status.
    found = podman(
        "run",
        "--rm",
        "--volume",
        f"{container.volume}:{DATA_DIR}",
        image(w),
        "python",
        "-c",
        READ_TABLE,
        command_id,
        DATA_DIR,
    )
    stored = json.loads(found)
    assert "COMPLETED" in stored["value"], stored
    podman("rm", container.name)
    container.name = f"{container.name}-2"
    container.run()
    try:
        wait_ready(container.url, READY_TIMEOUT, alive=container.running)
    except AssertionError:
        print(container.problems())
        raise
    status, body = http_get(f"{container.url}/commands/{command_id}")
    assert status == 200, (status, body[:500], container.logs()[-4000:])
    assert json.loads(body)["status"] == "COMPLETED"
    record(w, total_seconds=round(time.monotonic() - started, 1))

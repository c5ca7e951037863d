"""The generated Kubernetes manifests played by `podman kube play` on the local stack.

Gated like test_images.py (DEPLOY_TEST=1, `make deploy-test`). KUBE_WORKERS (default:
DEPLOY_WORKERS, else identity,orchestrator,spacy) must have images. The workers run from their generated pod
templates (tests/deploy/kube_local.py says what is adapted for podman, and
docs/deployment.md what that leaves unverified): env from the ConfigMap and the
Secret, the probes, the non-root security context and the state volume claim.
"""

from __future__ import annotations

import json
import os
import secrets
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy import kube_local
from tests.deploy.containers import (
    KAFKA,
    REDIS_URL,
    WORKER_ENV,
    consume_result_with_kcat,
    image,
    image_exists,
    log_problems,
    podman,
    podman_available,
    produce_with_kcat,
    wait_ready,
)

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("DEPLOY_TEST") != "1", reason="container tests: `make deploy-test`"
    ),
    pytest.mark.timeout(900),
]

KUBE_WORKERS = [
    w.strip()
    for w in os.environ.get(
        "KUBE_WORKERS", os.environ.get("DEPLOY_WORKERS", "identity,orchestrator,spacy")
    ).split(",")
    if w.strip()
]
SECRET_NAME = "enginedge-worker-secrets"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Played:
    def __init__(self, path: Path, ports: dict[str, int], prefix: str, token: str) -> None:
        self.path, self.ports, self.prefix, self.token = path, ports, prefix, token

    def container(self, worker_type: str) -> str:
        name = worker_type.replace("_", "-")
        return f"{name}-pod-0-worker"


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Played]:
    assert podman_available()
    from tests.support.stack import ensure_stack

    ensure_stack("kafka", "redis")
    missing = [w for w in KUBE_WORKERS if not image_exists(image(w))]
    assert not missing, f"build first: make image WORKER=<type> for {missing}"
    tmp = tmp_path_factory.mktemp("kube")
    prefix = f"k{uuid.uuid4().hex[:10]}."
    token = secrets.token_urlsafe(24)
    ports = {w: free_port() for w in KUBE_WORKERS}
    play = tmp / "play.yaml"
    play.write_text(kube_local.dump(kube_local.play_file(ports, prefix, KAFKA, REDIS_URL)))
    secret = tmp / "secret.json"
    secret.write_text(kube_local.podman_secret({"API_TOKEN": token, **WORKER_ENV["identity"]}))
    podman("secret", "rm", SECRET_NAME, check=False)
    podman("secret", "create", SECRET_NAME, str(secret))
    for w in KUBE_WORKERS:  # a claim's volume left by an interrupted run
        podman("volume", "rm", "--force", f"state-{w.replace('_', '-')}-0", check=False)
    out = podman("kube", "play", "--replace", str(play), timeout=300, check=False)
    result = Played(play, ports, prefix, token)
    try:
        assert "Error" not in out, out
        yield result
    finally:
        podman("kube", "play", "--down", str(play), timeout=180, check=False)
        podman("secret", "rm", SECRET_NAME, check=False)
        for w in KUBE_WORKERS:
            podman("volume", "rm", "--force", f"state-{w.replace('_', '-')}-0", check=False)


@pytest.mark.parametrize("worker_type", KUBE_WORKERS)
def test_played_worker_is_ready_with_its_config_secret_probes_and_volume(
    played: Played, worker_type: str
) -> None:
    name = played.container(worker_type)
    url = f"http://127.0.0.1:{played.ports[worker_type]}"

    try:  # no liveness shortcut: with restartPolicy Always podman restarts a crashed worker
        ready_s = wait_ready(url, 180)
    except AssertionError:
        print(log_problems(name))
        raise
    assert ready_s >= 0
    info = json.loads(podman("inspect", name))[0]
    env = dict(e.split("=", 1) for e in info["Config"]["Env"])
    # ConfigMap (envFrom) and Secret (secretKeyRef) both reached the container.
    assert env["TOPIC_PREFIX"] == played.prefix and env["KAFKA_BROKERS"] == KAFKA
    assert env["API_TOKEN"] == played.token
    assert env["WORKER_TYPE"] == worker_type
    # The pod's securityContext: the image's non-root user.
    assert podman("exec", name, "id", "-u").strip() == "1001"
    # The livenessProbe became the container's health check (readiness/startup: see docs).
    health = json.dumps(info["Config"].get("Healthcheck") or {})
    assert "/health" in health, health
    # The state volume claim is a named volume mounted at the state directory.
    mounts = {m["Destination"]: m for m in info["Mounts"]}
    assert mounts["/var/lib/enginedge"]["Name"] == f"state-{worker_type.replace('_', '-')}-0"
    podman("exec", name, "test", "-w", "/var/lib/enginedge")
    # The Secret's API token guards POST /commands: refused without it, accepted with it.
    body = json.dumps({"command_type": "system.ping", "payload": {}}).encode()
    for headers, expected in (({}, 401), ({"Authorization": f"Bearer {played.token}"}, 202)):
        req = urllib.request.Request(
            f"{url}/commands",
            data=body,
            headers={"Content-Type": "application/json", **headers},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status = resp.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        assert status == expected, (headers.keys(), status)
    # And a command over Kafka, answered.
    command_id = f"kube-{worker_type}-{uuid.uuid4().hex[:10]}"
    produce_with_kcat(
        f"{played.prefix}worker.{worker_type}.requests",
        command_id,
        {"command_id": command_id, "command_type": "system.ping", "payload": {}},
    )
    result = consume_result_with_kcat(
        f"{played.prefix}worker.{worker_type}.results", command_id, 120
    )
    assert result["status"] == "COMPLETED", result

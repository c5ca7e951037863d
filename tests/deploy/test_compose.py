"""The Compose stack brought up by Debian's podman-compose with the local override.

Gated like test_images.py (DEPLOY_TEST=1, `make deploy-test`). The override
(docker/docker-compose.local.yml) swaps the infrastructure images for local ones built
from Debian packages and the Kafka jars (scripts/build-infra-images.sh); the workers are
the images `make image` built. COMPOSE_WORKERS (default: identity,spacy, or
DEPLOY_WORKERS) picks the workers started with Kafka, Redis and PostgreSQL. The stack
runs on its own bridge network (CNI + dnsname) with its own published ports, so it
never touches the shared stack on the default ports.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from enginedge_streams.worker_types import default_port
from tests.deploy.containers import (
    CONTAINERS_ENV,
    WORKER_ENV,
    image,
    image_exists,
    podman,
    wait_ready,
)
from tests.deploy.support import ROOT

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("DEPLOY_TEST") != "1", reason="container tests: `make deploy-test`"
    ),
    pytest.mark.timeout(1200),
]

COMPOSE_WORKERS = [
    w.strip()
    for w in os.environ.get(
        "COMPOSE_WORKERS", os.environ.get("DEPLOY_WORKERS", "identity,spacy")
    ).split(",")
    if w.strip()
]
FILES = ["-f", "docker/docker-compose.workers.dev.yml", "-f", "docker/docker-compose.local.yml"]
EMPTY_DEFAULT = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*):-\}$")


def empty_default_override(path: Path) -> list[str]:
    """podman-compose 1.0.3 (Debian 12) leaves `${NAME:-}` (an empty default) as the
    literal text, so a worker would get "${API_TOKEN:-}" as its token. This override
    gives those variables their value from the environment (empty when unset)."""
    doc = yaml.safe_load((ROOT / FILES[1]).read_text())
    services: dict[str, dict[str, Any]] = {}
    for name, svc in doc["services"].items():
        env = {
            k: os.environ.get(m.group(1), "")
            for k, v in (svc.get("environment") or {}).items()
            if isinstance(v, str) and (m := EMPTY_DEFAULT.match(v))
        }
        if env:
            services[name] = {"environment": env}
    path.write_text(yaml.safe_dump({"services": services}))
    return ["-f", str(path)]


INFRA = ["kafka", "redis", "postgres"]


def compose(*args: str, timeout: float = 600, check: bool = True) -> str:
    out = subprocess.run(
        ["podman-compose", "-p", PROJECT, *FILES, *EXTRA_FILES, *args],
        cwd=ROOT,
        env={
            **os.environ,
            **CONTAINERS_ENV,
            **WORKER_ENV["identity"],
            "ENGINEDGE_VERSION": image("x").rsplit(":", 1)[1],
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and out.returncode != 0:
        raise AssertionError(f"podman-compose {' '.join(args)} -> {out.returncode}\n{out.stdout}")
    return out.stdout


PROJECT = f"eecompose{uuid.uuid4().hex[:6]}"
EXTRA_FILES: list[str] = []


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    missing = [w for w in COMPOSE_WORKERS if not image_exists(image(w))]
    assert not missing, f"build first: make image WORKER=<type> for {missing}"
    build = subprocess.run(
        [str(ROOT / "scripts/build-infra-images.sh")],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    busy = [
        p for p in (19092, 16379, 15432, *map(default_port, COMPOSE_WORKERS)) if not port_free(p)
    ]
    assert not busy, f"ports published by the Compose file are in use: {busy}"
    services = [*INFRA, *(w.replace("_", "-") for w in COMPOSE_WORKERS)]
    os.environ.update(WORKER_ENV["identity"])
    EXTRA_FILES[:] = empty_default_override(tmp_path_factory.mktemp("compose") / "env.yml")
    try:
        out = compose("up", "-d", *services)
        print(out[-4000:])
        yield
    finally:
        print(compose("logs", "--tail", "40", check=False)[-8000:])
        compose("down", "-v", "--timeout", "20", check=False)
        # podman-compose 1.0.3 leaves the project's network (a CNI file in /etc/cni/net.d).
        podman("network", "rm", "--force", f"{PROJECT}_default", check=False)


def test_infrastructure_health_checks_pass(stack: None) -> None:
    # podman-compose ignores `condition: service_healthy`; the checks themselves still run.
    for service in INFRA:
        name = f"{PROJECT}_{service}_1"
        info = json.loads(podman("inspect", name))[0]
        assert info["State"]["Running"], (service, info["State"])
        test = info["Config"]["Healthcheck"]["Test"]
        for _ in range(60):
            rc = subprocess.run(
                ["podman", "healthcheck", "run", name],
                env={**os.environ, **CONTAINERS_ENV},
                capture_output=True,
                timeout=60,
                check=False,
            ).returncode
            if rc == 0:
                break
            subprocess.run(["sleep", "2"], check=True)
        assert rc == 0, (service, test)


@pytest.mark.parametrize("worker_type", COMPOSE_WORKERS)
def test_compose_worker_is_ready_on_its_published_port(stack: None, worker_type: str) -> None:
    name = f"{PROJECT}_{worker_type.replace('_', '-')}_1"

    def alive() -> bool:
        out = podman("inspect", "--format", "{{.State.Running}}", name, check=False)
        return out.strip() == "true"

    # Kafka by its service name (kafka:9092) over the project's network, Redis likewise.
    wait_ready(f"http://127.0.0.1:{default_port(worker_type)}", 300, alive=alive)
    env = dict(e.split("=", 1) for e in json.loads(podman("inspect", name))[0]["Config"]["Env"])
    assert env["KAFKA_BROKERS"] == "kafka:9092"

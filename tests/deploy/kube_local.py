"""Turn the generated Kubernetes manifests into what `podman kube play` (4.3) can run here.

    .venv/bin/python -m tests.deploy.kube_local identity spacy orchestrator \\
        --prefix demo. --out /tmp/play.yaml --secret-out /tmp/secret.json
    podman secret create enginedge-worker-secrets /tmp/secret.json
    podman kube play /tmp/play.yaml          # ... podman kube play --down /tmp/play.yaml

Every change made here is a place where podman's subset of Kubernetes differs from a
cluster (docs/deployment.md lists them and what they leave unverified):

- StatefulSet -> Deployment (podman 4.3 plays Pod, Deployment, PersistentVolumeClaim,
  ConfigMap); its volumeClaimTemplate -> a PersistentVolumeClaim with the name the
  StatefulSet controller would give the first replica (`state-<name>-0`), i.e. a podman
  named volume;
- hostNetwork: true (no cluster network here; the local stack is on 127.0.0.1), so the
  ConfigMap points KAFKA_BROKERS/REDIS_URL at the local stack, and each worker gets a
  free port (PORT); podman refuses `ports` (port mappings) with the host network, so the
  container ports are removed and the probes' named port `http` becomes that number;
- WEB_HOST: podman cannot resolve `fieldRef: status.podIP`, it becomes 127.0.0.1;
- the Secret is not played (podman 4.3 has no Secret kind): podman resolves
  `secretKeyRef` from a podman secret of the same name whose content is the Secret's
  `data` as a JSON object of base64 values (`podman secret create NAME file.json`);
- Services, the HPA, PodDisruptionBudget, NetworkPolicy and Ingress are dropped (podman
  has no such objects).
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "manifests"
SHARED_CONFIG = "worker-shared-config"


def _load(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def local_config(prefix: str, kafka: str, redis_url: str) -> dict[str, Any]:
    """The generated shared ConfigMap, pointed at the local stack and a topic prefix."""
    (cm,) = [d for d in _load(MANIFESTS / "shared-config.yaml") if d["kind"] == "ConfigMap"]
    cm = copy.deepcopy(cm)
    cm["data"].update(
        {
            "KAFKA_BROKERS": kafka,
            "REDIS_URL": redis_url,
            "TOPIC_PREFIX": prefix,
            "TOPIC_PARTITIONS": "4",
            "TOPIC_REPLICATION_FACTOR": "1",
            # One pod per worker here, no S3 server: the filesystem store on its volume.
            "ARTIFACT_STORE": "filesystem",
        }
    )
    return dict(cm)


def local_secret(values: dict[str, str]) -> dict[str, Any]:
    """The generated Secret template with `values` filled in, as `data` (base64).
    podman reads `json.dumps(secret["data"])` (see podman_secret)."""
    (secret,) = _load(MANIFESTS / "secrets.template.yaml")
    string_data = {k: values.get(k, v) for k, v in secret.pop("stringData").items()}
    secret["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in string_data.items() if v}
    return dict(secret)


def podman_secret(values: dict[str, str]) -> str:
    """The content of the podman secret that stands for the Secret (JSON, base64 values)."""
    return json.dumps(local_secret(values)["data"])


def worker_objects(worker_type: str, port: int) -> list[dict[str, Any]]:
    """The worker's StatefulSet as a Deployment plus its PersistentVolumeClaim."""
    name = worker_type.replace("_", "-")
    (sts,) = [
        d for d in _load(MANIFESTS / "workers" / f"{name}.yaml") if d["kind"] == "StatefulSet"
    ]
    pod = copy.deepcopy(sts["spec"]["template"])
    spec = pod["spec"]
    spec["hostNetwork"] = True
    claims = []
    for template in sts["spec"].get("volumeClaimTemplates", []):
        claim_name = f"{template['metadata']['name']}-{name}-0"
        claims.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": claim_name, "labels": template["metadata"].get("labels", {})},
                "spec": template["spec"],
            }
        )
        spec.setdefault("volumes", []).append(
            {
                "name": template["metadata"]["name"],
                "persistentVolumeClaim": {"claimName": claim_name},
            }
        )
    for container in spec["containers"]:
        # podman refuses port mappings with the host network: the ports go, and the
        # probes' named port `http` becomes its number.
        container.pop("ports", None)
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            if probe in container and "httpGet" in container[probe]:
                container[probe]["httpGet"]["port"] = port
        for env in container.get("env", []):
            if env["name"] == "PORT":
                env["value"] = str(port)
            if env["name"] == "WEB_HOST":
                env.pop("valueFrom", None)
                env["value"] = "127.0.0.1"
    pod.setdefault("metadata", {}).setdefault("annotations", {})["prometheus.io/port"] = str(port)
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": sts["metadata"]["labels"]},
        "spec": {"replicas": 1, "selector": sts["spec"]["selector"], "template": pod},
    }
    return [*claims, deployment]


def play_file(
    workers: dict[str, int], prefix: str, kafka: str, redis_url: str
) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = [local_config(prefix, kafka, redis_url)]
    for worker_type, port in workers.items():
        docs += worker_objects(worker_type, port)
    return docs


def dump(docs: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(docs, sort_keys=False)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workers", nargs="+")
    parser.add_argument("--prefix", default="")
    parser.add_argument("--kafka", default="127.0.0.1:9092")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--first-port", type=int, default=13000)
    parser.add_argument("--api-token", default="")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--secret-out", type=Path, required=True)
    args = parser.parse_args(argv)
    ports = {w: args.first_port + i for i, w in enumerate(args.workers)}
    args.out.write_text(dump(play_file(ports, args.prefix, args.kafka, args.redis)))
    args.secret_out.write_text(podman_secret({"API_TOKEN": args.api_token}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

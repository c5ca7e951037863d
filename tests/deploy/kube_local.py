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
  has no such objects);
- kustomize Components (`--component latex-sandbox`, manifests/components/) are applied
  here as strategic merge patches (merge(); tests/deploy/test_latex_sandbox.py checks the
  result equals `kubectl kustomize`'s);
- a container's `securityContext.seccompProfile` (podman 4.3 reads only the older
  annotations) becomes `container.seccomp.security.alpha.kubernetes.io/<name>`, and its
  `Localhost` profile is looked up under `podman kube play --seccomp-profile-root`
  (seccomp_root() makes one from docker/); `procMount` and `hostUsers` have no podman
  equivalent in kube play (podman 4.3 ignores them): PODMAN_PROC_UNMASK says what stands in.
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


def merge(base: Any, patch: Any) -> Any:
    """A strategic merge patch as kustomize applies the ones here: maps merge key by key,
    lists of named items (containers, env, volumes) merge by `name`, anything else is
    replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = copy.deepcopy(base)
        for key, value in patch.items():
            out[key] = merge(out[key], value) if key in out else copy.deepcopy(value)
        return out
    named = isinstance(base, list) and isinstance(patch, list)
    if named and all(isinstance(x, dict) and "name" in x for x in [*base, *patch]):
        out_list = copy.deepcopy(base)
        where = {item["name"]: i for i, item in enumerate(out_list)}
        for item in patch:
            if item["name"] in where:
                out_list[where[item["name"]]] = merge(out_list[where[item["name"]]], item)
            else:
                out_list.append(copy.deepcopy(item))
        return out_list
    return copy.deepcopy(patch)


def with_components(docs: list[dict[str, Any]], components: list[str]) -> list[dict[str, Any]]:
    """`docs` with the patches of manifests/components/<name> applied (by kind and name)."""
    out = copy.deepcopy(docs)
    for component in components:
        root = MANIFESTS / "components" / component
        (kustomization,) = _load(root / "kustomization.yaml")
        for entry in kustomization.get("patches", []):
            for patch in _load(root / entry["path"]):
                key = (patch["kind"], patch["metadata"]["name"])
                hits = [i for i, d in enumerate(out) if (d["kind"], d["metadata"]["name"]) == key]
                for i in hits:
                    out[i] = merge(out[i], patch)
    return out


#: SECCOMP_ANNOTATION + container name: the per-container seccomp annotation podman reads.
SECCOMP_ANNOTATION = "container.seccomp.security.alpha.kubernetes.io/"


def seccomp_root(directory: Path, components: list[str]) -> Path:
    """A `--seccomp-profile-root` holding the components' Localhost profiles (taken from
    docker/, where the repository ships them, by file name)."""
    for component in components:
        root = MANIFESTS / "components" / component
        for patch_file in root.glob("*.yaml"):
            for doc in _load(patch_file):
                for profile in _localhost_profiles(doc):
                    target = directory / profile
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shipped = ROOT / "docker" / profile.removeprefix("enginedge-")
                    target.write_bytes(shipped.read_bytes())
    return directory


def _localhost_profiles(doc: dict[str, Any]) -> list[str]:
    spec = doc.get("spec", {}).get("template", {}).get("spec", {})
    contexts = [spec.get("securityContext") or {}]
    contexts += [c.get("securityContext") or {} for c in spec.get("containers", [])]
    return [
        ctx["seccompProfile"]["localhostProfile"]
        for ctx in contexts
        if (ctx.get("seccompProfile") or {}).get("type") == "Localhost"
    ]


def worker_objects(
    worker_type: str, port: int, components: list[str] | None = None
) -> list[dict[str, Any]]:
    """The worker's ConfigMaps, its StatefulSet as a Deployment, its PersistentVolumeClaim."""
    name = worker_type.replace("_", "-")
    docs = with_components(_load(MANIFESTS / "workers" / f"{name}.yaml"), components or [])
    (sts,) = [d for d in docs if d["kind"] == "StatefulSet"]
    config_maps = [d for d in docs if d["kind"] == "ConfigMap"]
    pod = copy.deepcopy(sts["spec"]["template"])
    spec = pod["spec"]
    spec["hostNetwork"] = True
    # Kubernetes refuses hostUsers: false with hostNetwork, and podman (which honours
    # hostUsers: false as --userns=auto) cannot mount /sys for the pod's infra container in
    # a user namespace on the host network: the pod keeps the host's users here.
    spec.pop("hostUsers", None)
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
    annotations = pod.setdefault("metadata", {}).setdefault("annotations", {})
    for container in spec["containers"]:
        profile = (container.get("securityContext") or {}).get("seccompProfile") or {}
        if profile.get("type") == "Localhost":
            annotations[SECCOMP_ANNOTATION + container["name"]] = (
                f"localhost/{profile['localhostProfile']}"
            )
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
    annotations["prometheus.io/port"] = str(port)
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": sts["metadata"]["labels"]},
        "spec": {"replicas": 1, "selector": sts["spec"]["selector"], "template": pod},
    }
    return [*config_maps, *claims, deployment]


def play_file(
    workers: dict[str, int],
    prefix: str,
    kafka: str,
    redis_url: str,
    components: list[str] | None = None,
) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = [local_config(prefix, kafka, redis_url)]
    for worker_type, port in workers.items():
        docs += worker_objects(worker_type, port, components)
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
    parser.add_argument(
        "--component", action="append", default=[], help="e.g. latex-sandbox (repeatable)"
    )
    parser.add_argument(
        "--seccomp-root", type=Path, help="write the components' Localhost profiles here"
    )
    args = parser.parse_args(argv)
    ports = {w: args.first_port + i for i, w in enumerate(args.workers)}
    docs = play_file(ports, args.prefix, args.kafka, args.redis, args.component)
    args.out.write_text(dump(docs))
    if args.seccomp_root:
        seccomp_root(args.seccomp_root, args.component)
    args.secret_out.write_text(podman_secret({"API_TOKEN": args.api_token}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

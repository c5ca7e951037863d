"""manifests/: valid for a current Kubernetes, and consistent with the code they deploy."""

from __future__ import annotations

import base64
import copy
import os
import re
import subprocess

import kubernetes_validate
import pytest

import agents
from enginedge_streams.bootstrap import bootstrap
from enginedge_streams.settings import Settings, load
from enginedge_streams.topics import WorkerTopics, app_id
from enginedge_streams.worker_types import default_port
from tests.deploy.support import ROOT, generator, load_all, manifest_files, manifests, tool

K8S_VERSION = "1.37.0"
WORKERS = agents.available()
#: Workers whose docs say "One replica": their state must live on one process.
SINGLE_REPLICA = {"scheduling", "identity", "news", "orchestrator", "llm", "interview", "resume"}


def by_kind(kind, name=None):
    found = [d for _, d in manifests() if d["kind"] == kind]
    return [d for d in found if name is None or d["metadata"]["name"] == name]


def one(kind, name):
    (doc,) = by_kind(kind, name)
    return doc


def worker_name(worker_type):
    return worker_type.replace("_", "-")


def container(worker_type):
    return one("StatefulSet", worker_name(worker_type))["spec"]["template"]["spec"]["containers"][0]


def gib(quantity):
    units = {"Gi": 1, "Mi": 1 / 1024}
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(Gi|Mi)", quantity)
    assert m, quantity
    return float(m.group(1)) * units[m.group(2)]


def test_every_manifest_is_valid_for_kubernetes():
    """kubernetes-validate (strict: unknown fields are errors) on every manifest, in one run."""
    files = [str(p) for p in manifest_files()]
    out = subprocess.run(
        [tool("kubernetes-validate"), "--strict", "-k", K8S_VERSION, *files],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = out.stdout.splitlines()
    problems = [line for line in lines if not line.startswith("INFO ")]
    assert out.returncode == 0 and not problems, out.stdout + out.stderr
    passed = [line for line in lines if " passed for resource " in line]
    assert len(passed) == len(manifests()), "every resource is checked against a schema"
    for _, doc in manifests():
        assert doc["kind"] == "Namespace" or doc["metadata"]["namespace"] == "enginedge"


def test_validator_rejects_broken_manifests():
    sts = copy.deepcopy(by_kind("StatefulSet")[0])
    sts["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["prot"] = 80
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(sts, K8S_VERSION, strict=True)
    hpa = copy.deepcopy(by_kind("HorizontalPodAutoscaler")[0])
    hpa["spec"]["maxReplicas"] = "many"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(hpa, K8S_VERSION, strict=True)


def shared_config():
    return one("ConfigMap", "worker-shared-config")["data"]


def test_shared_config_has_the_guide_keys():
    data = shared_config()
    assert {
        "KAFKA_BROKERS",
        "REDIS_URL",
        "LOG_LEVEL",
        "MAX_CONCURRENCY",
        "HEALTH_CHECK_INTERVAL",
    } <= set(data)
    load(Settings, **{k.lower(): v for k, v in data.items()})  # valid values


def test_secret_template_holds_no_values():
    (secret,) = load_all(ROOT / "manifests/secrets.template.yaml")
    assert secret["kind"] == "Secret"
    assert all(v == "" for v in secret["stringData"].values())
    assert "data" not in secret


def worker_env(worker_type, secrets=None):
    """The environment a worker pod gets, as Kubernetes would assemble it."""
    c = container(worker_type)
    env = {}
    for source in c.get("envFrom", []):
        env.update(one("ConfigMap", source["configMapRef"]["name"])["data"])
    for item in c["env"]:
        if "value" in item:
            env[item["name"]] = item["value"]
        elif "fieldRef" in item.get("valueFrom", {}):
            env[item["name"]] = "127.0.0.1"  # status.podIP
        elif "secretKeyRef" in item.get("valueFrom", {}):
            ref = item["valueFrom"]["secretKeyRef"]
            assert ref["name"] == "enginedge-worker-secrets" and ref["optional"] is True
            if secrets and item["name"] in secrets:
                env[item["name"]] = secrets[item["name"]]
    return env


@pytest.mark.parametrize("worker_type", WORKERS)
def test_env_names_exist_in_the_worker_settings(worker_type):
    gen = generator()
    allowed = gen.env_names(worker_type)
    c = container(worker_type)
    names = {e["name"] for e in c["env"]}
    for source in c.get("envFrom", []):
        names |= set(one("ConfigMap", source["configMapRef"]["name"])["data"])
    assert not names - allowed, f"{worker_type}: unknown settings {sorted(names - allowed)}"
    secret_refs = {e["name"] for e in c["env"] if "secretKeyRef" in e.get("valueFrom", {})}
    assert secret_refs == set(gen.secret_names(worker_type))
    (template,) = load_all(ROOT / "manifests/secrets.template.yaml")
    assert secret_refs <= set(template["stringData"])


@pytest.mark.parametrize("worker_type", WORKERS)
def test_probes_and_ports_exist_in_the_app(worker_type, monkeypatch, tmp_path):
    """Build the worker's real Faust app from the pod's environment and look at its routes."""
    secrets = {"IDENTITY_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode()}
    env = worker_env(worker_type, secrets)
    gen = generator()
    for key in list(os.environ):
        if key in gen.env_names(worker_type):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))  # nothing is written at build time
    app = bootstrap(load(Settings), worker_type=worker_type)
    c = container(worker_type)
    (port,) = c["ports"]
    assert port["name"] == "http" and port["containerPort"] == default_port(worker_type)
    assert app.conf.web_port == port["containerPort"]
    assert c["livenessProbe"]["httpGet"]["path"] == "/health"
    assert c["startupProbe"]["httpGet"]["path"] == "/health"
    assert c["readinessProbe"]["httpGet"]["path"] == "/ready"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        path = c[probe]["httpGet"]["path"]
        assert path in app.web.views, f"{worker_type}: {path} not served"
        assert c[probe]["httpGet"]["port"] == "http"
    assert "/metrics" in app.web.views and "/monitor" in app.web.views
    annotations = one("StatefulSet", worker_name(worker_type))["spec"]["template"]["metadata"][
        "annotations"
    ]
    assert annotations["prometheus.io/path"] in app.web.views
    assert annotations["prometheus.io/port"] == str(app.conf.web_port)


@pytest.mark.parametrize("worker_type", WORKERS)
def test_workload_shape(worker_type):
    name = worker_name(worker_type)
    sts = one("StatefulSet", name)
    spec = sts["spec"]
    pod = spec["template"]["spec"]
    c = container(worker_type)
    labels = spec["template"]["metadata"]["labels"]
    assert labels["enginedge.io/worker-type"] == worker_type
    # Resources: the guide's 2-8 GB budgets; requests within limits.
    res = c["resources"]
    assert 2 <= gib(res["requests"]["memory"]) <= gib(res["limits"]["memory"]) <= 8
    assert res["requests"]["cpu"] and res["limits"]["cpu"]
    # Anti-affinity by worker type.
    term = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
    assert term["podAffinityTerm"]["labelSelector"]["matchLabels"] == {
        "enginedge.io/worker-type": worker_type
    }
    assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    # Non-root, as the image (uid 1001), and the RocksDB directory on the claimed volume.
    assert pod["securityContext"]["runAsUser"] == 1001 and pod["securityContext"]["fsGroup"] == 1001
    env = worker_env(worker_type)
    (mount,) = c["volumeMounts"]
    assert env["DATA_DIR"].startswith(mount["mountPath"] + "/")
    (claim,) = spec["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == mount["name"]
    assert spec["serviceName"] == f"{name}-headless"
    assert "replicas" not in spec  # owned by the HPA
    # Services: port 80 -> the worker's named port; headless for the pods' DNS names.
    svc = one("Service", name)["spec"]
    assert svc["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    assert svc["selector"].items() <= labels.items()
    assert one("Service", f"{name}-headless")["spec"]["clusterIP"] == "None"
    pdb = one("PodDisruptionBudget", name)["spec"]
    assert pdb["selector"]["matchLabels"].items() <= labels.items()


@pytest.mark.parametrize("worker_type", WORKERS)
def test_hpa_scales_on_cpu_and_kafka_lag(worker_type):
    name = worker_name(worker_type)
    hpa = one("HorizontalPodAutoscaler", name)
    assert hpa["apiVersion"] == "autoscaling/v2"
    spec = hpa["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": name}
    assert 1 <= spec["minReplicas"] <= spec["maxReplicas"]
    # More replicas than partitions would idle: the cap is the topics' partition count.
    assert spec["maxReplicas"] <= int(shared_config()["TOPIC_PARTITIONS"])
    if worker_type in SINGLE_REPLICA:  # state complete only on one process (docs/workers)
        assert spec["minReplicas"] == spec["maxReplicas"] == 1
    metrics = {m["type"]: m for m in spec["metrics"]}
    cpu = metrics["Resource"]["resource"]
    assert cpu["name"] == "cpu" and cpu["target"] == {
        "type": "Utilization",
        "averageUtilization": 70,
    }
    ext = metrics["External"]["external"]
    assert ext["metric"]["name"] == "kafka_consumergroup_lag"
    assert ext["metric"]["selector"]["matchLabels"] == {
        "topic": WorkerTopics(worker_type).requests,
        "consumergroup": app_id(worker_type),
    }
    assert ext["target"] == {"type": "AverageValue", "averageValue": "50"}


def test_ingress_routes_every_worker_service():
    (ingress,) = by_kind("Ingress")
    backends = {
        p["backend"]["service"]["name"]: p["backend"]["service"]["port"]["number"]
        for rule in ingress["spec"]["rules"]
        for p in rule["http"]["paths"]
    }
    assert backends == {worker_name(w): 80 for w in WORKERS}


def test_kafka_exporter_reads_the_shared_brokers():
    dep = one("Deployment", "kafka-exporter")
    c = dep["spec"]["template"]["spec"]["containers"][0]
    assert "--kafka.server=$(KAFKA_BROKERS)" in c["args"]
    (env,) = c["env"]
    assert env["valueFrom"]["configMapKeyRef"] == {
        "name": "worker-shared-config",
        "key": "KAFKA_BROKERS",
    }
    groups = re.compile(
        next(a for a in c["args"] if a.startswith("--group.filter=")).split("=", 1)[1]
    )
    topics = re.compile(
        next(a for a in c["args"] if a.startswith("--topic.filter=")).split("=", 1)[1]
    )
    for w in WORKERS:
        assert groups.match(app_id(w)) and topics.match(WorkerTopics(w).requests)

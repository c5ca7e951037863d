"""docker/: the Dockerfile passes hadolint, the compose file the Compose specification's
JSON schema, and compose agrees with the registry, the port table and the settings."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import jsonschema
import pytest

import agents
from enginedge_streams.settings import load
from enginedge_streams.worker_types import default_port
from tests.deploy.support import ROOT, generator, load_all, tool

DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "docker-compose.workers.dev.yml"


def hadolint(path, *extra):
    out = subprocess.run(
        [
            tool("hadolint"),
            "--config",
            str(DOCKER / ".hadolint.yaml"),
            "-f",
            "json",
            *extra,
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.returncode, json.loads(out.stdout or "[]")


def test_hadolint_passes_the_dockerfile():
    code, findings = hadolint(DOCKER / "Dockerfile", "-t", "style")
    assert code == 0 and findings == [], findings


def test_hadolint_really_lints(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN cd /app && pip install flask\nCMD python app.py\n")
    code, findings = hadolint(bad)
    assert code != 0
    assert {"DL3006", "DL3003", "DL3025"} <= {f["code"] for f in findings}, findings


def instructions():
    text = (DOCKER / "Dockerfile").read_text().replace("\\\n", " ")
    return [
        (m.group(1).upper(), m.group(2).strip())
        for m in re.finditer(r"^\s*([A-Za-z]+)\s+(.*)$", text, re.M)
        if not m.group(0).lstrip().startswith("#")
    ]


def test_dockerfile_shape():
    ins = instructions()
    froms = [arg for op, arg in ins if op == "FROM"]
    assert len(froms) >= 2 and all("python:3.11-slim" in f or "${PYTHON_IMAGE}" in f for f in froms)
    assert any(op == "ARG" and "python:3.11-slim" in arg for op, arg in ins)
    # Dependencies are installed before the source is copied (a cached layer).
    ops = [f"{op} {arg}" for op, arg in ins]
    deps = next(i for i, s in enumerate(ops) if "pip install" in s and "requirements.txt" in s)
    source = next(i for i, s in enumerate(ops) if s.startswith("COPY enginedge_streams"))
    assert deps < source
    runtime = ops[next(i for i, s in enumerate(ops) if s.startswith("FROM") and "runtime" in s) :]
    assert "USER 1001:1001" in runtime
    assert any(s.startswith("ENTRYPOINT") and "tini" in s for s in runtime)
    assert any(s.startswith("HEALTHCHECK") and "enginedge-healthcheck" in s for s in runtime)
    assert any("faust" in s and "enginedge_streams" in s for s in runtime if s.startswith("CMD"))
    run = " ".join(s for s in runtime if s.startswith("RUN"))
    for worker, package in [
        ("data_processing", "tesseract-ocr"),
        ("data_processing", "poppler-utils"),
        ("latex", "texlive-latex-base"),
        ("latex", "latexmk"),
        ('llm|""', "libgomp1"),  # llama-server (llm-local) links libgomp
    ]:
        pattern = rf"{re.escape(worker)}\) packages\+=\([^)]*{package}"
        assert re.search(pattern, run), (worker, package)


def test_image_requirements_follow_the_worker():
    sys.path.insert(0, str(DOCKER))
    try:
        import requirements as req  # docker/requirements.py
    finally:
        sys.path.remove(str(DOCKER))
    cfg = str(ROOT / "setup.cfg")
    core = req.requirements(cfg, "spacy", "")
    assert any(r.startswith("faust-streaming") for r in core)
    assert any(r.startswith("spacy") for r in core) and not any(
        r.startswith("openai") for r in core
    )
    assert not any(r.startswith("pytest") for r in req.requirements(cfg))  # `all`, not `dev`
    # data_processing's XML/EML/EPUB/ODT/RTF/PPTX/XLSX/CSV partitioner (the documents extra).
    dp = req.requirements(cfg, "data_processing", "")
    assert any(r.startswith("unstructured[") for r in dp), dp
    assert any(r.startswith("pgvector") for r in dp), dp
    with pytest.raises(SystemExit):
        req.requirements(cfg, "", "no-such-extra")


def test_compose_file_validates_against_the_compose_spec():
    schema = json.loads((DOCKER / "compose-spec.schema.json").read_text())
    validator_cls = jsonschema.validators.validator_for(schema)
    validator_cls.check_schema(schema)
    validator = validator_cls(schema)
    doc = load_all(COMPOSE)[0]
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
    assert errors == []
    broken = json.loads(json.dumps(doc))
    broken["services"]["redis"]["depends_on"] = {"kafka": {"condition": "when_i_feel_like_it"}}
    broken["services"]["redis"]["helthcheck"] = {}
    assert len(list(validator.iter_errors(broken))) >= 2


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: str) -> str:
    """Compose interpolation with an empty shell environment (defaults apply)."""
    return _VAR.sub(lambda m: m.group(3) if m.group(2) in (":-", "-") else "", value)


def test_compose_infrastructure_kraft_redis_pgvector():
    services = load_all(COMPOSE)[0]["services"]
    assert not any("zookeeper" in json.dumps(s).lower() for s in services.values())
    kafka = services["kafka"]["environment"]
    assert "controller" in kafka["KAFKA_PROCESS_ROLES"] and "broker" in kafka["KAFKA_PROCESS_ROLES"]
    assert kafka["KAFKA_CONTROLLER_QUORUM_VOTERS"].startswith(kafka["KAFKA_NODE_ID"] + "@")
    assert "pgvector" in services["postgres"]["image"]
    for name in ("kafka", "redis", "postgres"):
        assert services[name]["healthcheck"]["test"], name


@pytest.mark.parametrize("worker_type", agents.available())
def test_compose_worker_matches_registry_ports_and_settings(worker_type, monkeypatch):
    gen = generator()
    services = load_all(COMPOSE)[0]["services"]
    name = worker_type.replace("_", "-")
    svc = services[name]
    env = {k: interpolate(str(v)) for k, v in svc["environment"].items()}
    port = default_port(worker_type)
    assert env["WORKER_TYPE"] == worker_type
    assert env["PORT"] == str(port) and svc["ports"] == [f"{port}:{port}"]
    assert svc["build"]["args"]["WORKER"] == worker_type
    assert svc["build"]["dockerfile"] == "docker/Dockerfile"
    unknown = set(env) - gen.env_names(worker_type)
    assert not unknown, f"{worker_type}: not settings of this worker: {sorted(unknown)}"
    # Values are valid too: every settings class of the worker loads from this environment.
    for key in list(os.environ):
        if key in gen.env_names(worker_type):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for cls in gen.settings_classes(worker_type):
        load(cls)
    assert svc["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert svc["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "/ready" in svc["healthcheck"]["test"]
    assert any(v.endswith(":/var/lib/enginedge") for v in svc["volumes"])
    assert env["DATA_DIR"].startswith("/var/lib/enginedge/")
    if worker_type == "data_processing":
        assert svc["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert "@postgres:5432/" in env["DATABASE_URL"]


def test_every_compose_service_is_a_known_worker_or_infrastructure():
    services = set(load_all(COMPOSE)[0]["services"])
    workers = {w.replace("_", "-") for w in agents.available()}
    assert services - workers == {"kafka", "redis", "postgres", "prometheus", "grafana"}

"""The committed deployment files are exactly what the generator makes from the registry."""

from __future__ import annotations

import agents
from enginedge_streams.worker_types import default_port
from tests.deploy.support import ROOT, generator, load_all


def test_committed_files_equal_the_generator_output():
    stale = generator().stale(generator().render())
    assert not stale, (
        f"out of date: {stale}; run `.venv/bin/python scripts/gen_manifests.py` and commit"
    )


def test_staleness_check_catches_edits_and_leftovers(tmp_path):
    """The comparison really compares: on a copy, an edited file and a removed worker's file."""
    gen = generator()
    files = gen.render()
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    assert gen.stale(files, root=tmp_path) == []
    edited = next(r for r in files if r.startswith("manifests/workers/"))
    (tmp_path / edited).write_text(files[edited] + "# hand edit\n")
    (tmp_path / "manifests/workers/retired-worker.yaml").write_text("kind: StatefulSet\n")
    assert gen.stale(files, root=tmp_path) == [edited, "manifests/workers/retired-worker.yaml"]


def test_every_registered_worker_is_deployed_everywhere():
    compose = load_all(ROOT / "docker/docker-compose.workers.dev.yml")[0]["services"]
    kustomization = load_all(ROOT / "manifests/kustomization.yaml")[0]["resources"]
    scrape = load_all(ROOT / "monitoring/prometheus.yml")[0]["scrape_configs"][0]
    targets = {t for c in scrape["static_configs"] for t in c["targets"]}
    assert agents.available(), "empty registry"
    for worker_type in agents.available():
        name = worker_type.replace("_", "-")
        port = default_port(worker_type)
        assert compose[name]["environment"]["WORKER_TYPE"] == worker_type
        assert f"workers/{name}.yaml" in kustomization
        kinds = {
            (d["kind"], d["metadata"]["name"])
            for d in load_all(ROOT / f"manifests/workers/{name}.yaml")
        }
        assert {
            ("StatefulSet", name),
            ("Service", name),
            ("Service", f"{name}-headless"),
            ("HorizontalPodAutoscaler", name),
            ("PodDisruptionBudget", name),
        } <= kinds, kinds
        assert f"{name}:{port}" in targets


def test_kustomization_lists_every_manifest_but_the_secret_template():
    resources = set(load_all(ROOT / "manifests/kustomization.yaml")[0]["resources"])
    files = {
        p.relative_to(ROOT / "manifests").as_posix()
        for p in (ROOT / "manifests").rglob("*.yaml")
        if p.name != "kustomization.yaml"
    }
    # Opt-in kustomize Components: added by a user's overlay, never by the base.
    files = {f for f in files if not f.startswith("components/")}
    assert "components/latex-sandbox/latex-sandbox.yaml" in {
        p.relative_to(ROOT / "manifests").as_posix()
        for p in (ROOT / "manifests/components").rglob("*.yaml")
    }
    assert resources == files - {"secrets.template.yaml"}
    assert all((ROOT / "manifests" / r).is_file() for r in resources)

"""Helpers for the deployment tests: the generator, YAML files, metric names, validators."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@cache
def generator() -> ModuleType:
    """scripts/gen_manifests.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "gen_manifests", ROOT / "scripts/gen_manifests.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_manifests"] = module
    spec.loader.exec_module(module)
    return module


def load_all(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


@cache
def _parsed(path: Path, mtime_ns: int) -> tuple[dict[str, Any], ...]:
    return tuple(load_all(path))


def manifest_files() -> list[Path]:
    """The applied manifests: kustomizations and the opt-in Components' patches (partial
    objects, tests/deploy/test_latex_sandbox.py validates them patched) left out."""
    root = ROOT / "manifests"
    return sorted(
        p
        for p in root.rglob("*.yaml")
        if p.name != "kustomization.yaml" and p.relative_to(root).parts[0] != "components"
    )


def manifests() -> list[tuple[Path, dict[str, Any]]]:
    return [(p, d) for p in manifest_files() for d in _parsed(p, p.stat().st_mtime_ns)]


def tool(name: str) -> str:
    """A validator binary: from the virtualenv (PyPI) or PATH (Debian)."""
    found = BIN / name if (BIN / name).exists() else shutil.which(name)
    assert found, f"{name} is not installed (see setup.cfg [dev] / scripts/system-packages.txt)"
    return str(found)


@cache
def exported_metric_names() -> frozenset[str]:
    """Every series name a worker's /metrics can carry (worker and Faust metrics).

    Read from the exposition's `# TYPE` lines, so label-less families without a
    sample yet (tokens, cost, API calls) count too; histograms add their suffixes.
    """
    from enginedge_streams.metrics import WorkerMetrics

    metrics = WorkerMetrics("probe")
    metrics.faust_metrics()
    metrics.watch_lag(lambda: {("worker.probe.requests", 0): 1})
    names: set[str] = set()
    for line in metrics.render().decode().splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            names.add(name)
            if kind == "histogram":
                names.update(f"{name}{suffix}" for suffix in ("_bucket", "_sum", "_count"))
    return frozenset(names)


_KEYWORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
    "offset",
    "inf",
    "nan",
}


def promql_metric_names(expr: str) -> set[str]:
    """Metric names referenced by a PromQL expression (functions, labels, keywords removed)."""
    s = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)  # string literals
    s = re.sub(r"\{[^}]*\}", "", s)  # label matchers
    s = re.sub(r"\[[^\]]*\]", "", s)  # range selectors (and Grafana's $__rate_interval)
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", s)
    s = re.sub(r"(?<![\w.])\d+(\.\d+)?([eE][+-]?\d+)?", "", s)  # numbers
    names = set()
    for m in re.finditer(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*(\()?", s):
        if m.group(2) or m.group(1).lower() in _KEYWORDS:
            continue  # a function call or a keyword
        names.add(m.group(1))
    return names

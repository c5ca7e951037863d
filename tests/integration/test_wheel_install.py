"""The package installs: a wheel built from the tree, installed non-editable, runs.

Built the way a user or the Docker image builds it (``pip wheel --no-deps``,
build isolation, from a copy of the working tree so the tree gets no
``build/``), then installed with ``--no-deps`` into a fresh virtualenv. The
dependencies are not downloaded again: the fresh venv's site-packages holds a
``.pth`` file with the project venv's site-packages as a plain path line. A
path line only extends ``sys.path`` (the ``.pth`` files *in* that directory,
among them the editable install's finder, are not run), and the fresh venv's
own site-packages comes first, so ``enginedge_streams``, ``agents`` and
``tables`` are imported from the wheel — the test checks that — while aiokafka,
faust and the rest come from the project venv. (``--system-site-packages``
would see the base interpreter's packages, not the project venv's.)

From a directory outside the source tree, with no ``PYTHONPATH``, it runs
``enginedge --help`` and ``faust -A enginedge_streams worker`` for the two
workers that need data files (interview: ``data/questions.json``; orchestrator:
``builtin/*.yaml``) until ``/ready``, then asks each over the bus for what
those files hold.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.stack import KAFKA
from tests.support.workers import ROOT, WorkerProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PACKAGES = ("enginedge_streams", "agents", "tables")


def _run(args: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300):
    proc = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert proc.returncode == 0, f"{args} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


def _tree_files() -> list[str]:
    """The files of the working tree that git tracks or would track (not ignored)."""
    out = _run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT).stdout
    return [f for f in out.split("\0") if f and (ROOT / f).is_file()]


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PYTHONNOUSERSITE"] = "1"
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    root = tmp_path_factory.mktemp("wheel")
    src, dist, venv, outside = root / "src", root / "dist", root / "venv", root / "elsewhere"
    files = _tree_files()
    for rel in files:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)],
        cwd=root,
        env=_clean_env(),
    )
    (wheel,) = dist.glob("enginedge_streams-*.whl")
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=root)
    python = venv / "bin" / "python"
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            cwd=root,
        ).stdout.strip()
    )
    # The project venv's packages as a plain path, after the fresh venv's own.
    (site / "zz-project-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        cwd=root,
        env=_clean_env(),
    )
    outside.mkdir()
    yield {
        "wheel": wheel,
        "venv": venv,
        "python": python,
        "site": site,
        "cwd": outside,
    }


def test_the_wheel_holds_every_module_and_data_file(installed: dict[str, Path]) -> None:
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    wanted = [f for f in _tree_files() if f.split("/", 1)[0] in PACKAGES]
    missing = [f for f in wanted if f not in names]
    assert not missing, f"not in the wheel: {missing}"
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_modules_come_from_the_installed_wheel(installed: dict[str, Path]) -> None:
    code = (
        "import enginedge_streams, agents, tables, enginedge_streams.cli.main as m\n"
        "for mod in (enginedge_streams, agents, tables, m): print(mod.__file__)\n"
    )
    out = _run([str(installed["python"]), "-c", code], cwd=installed["cwd"], env=_clean_env())
    for line in out.stdout.split():
        assert line.startswith(str(installed["site"])), out.stdout


def test_enginedge_help_runs_from_the_installed_script(installed: dict[str, Path]) -> None:
    script = installed["venv"] / "bin" / "enginedge"
    assert script.exists(), "the wheel installs no `enginedge` console script"
    out = _run([str(script), "--help"], cwd=installed["cwd"], env=_clean_env(), timeout=120)
    assert "Usage" in out.stdout
    assert "submit" in out.stdout


class InstalledWorker(WorkerProcess):
    """A worker run by the fresh venv's interpreter, outside the source tree."""

    def base_env(self) -> dict[str, str]:
        return _clean_env()


@pytest.fixture(scope="module")
def workers(
    installed: dict[str, Path], stack: None, module_prefix: str, tmp_path_factory
) -> Iterator[dict[str, InstalledWorker]]:
    root = tmp_path_factory.mktemp("installed-workers")
    started: dict[str, InstalledWorker] = {}
    extra = {
        "interview": {
            "INTERVIEW_REPORT_RENDERER": "auto",
            "INTERVIEW_ARTIFACT_DIR": str(root / "artifacts"),
        },
        "orchestrator": {},
    }
    try:
        for worker_type, env in extra.items():
            worker = InstalledWorker(
                worker_type=worker_type,
                prefix=module_prefix,
                data_dir=root / f"data-{worker_type}",
                log_path=root / f"{worker_type}.log",
                env=env,
            )
            worker.python, worker.cwd = installed["python"], installed["cwd"]
            started[worker_type] = worker
            worker.start(wait=False)
        for worker in started.values():
            worker.wait_ready(240)
        yield started
    finally:
        for worker in started.values():
            worker.stop(timeout=20)


def test_interview_worker_answers_from_the_packaged_question_bank(workers, module_prefix) -> None:
    result = asyncio.run(_call(module_prefix, "interview", "question.list", {"limit": 5}))
    assert result.status.value == "COMPLETED", result.error
    assert result.result["total"] > 0


def test_orchestrator_runs_the_packaged_builtin_workflows(workers, module_prefix) -> None:
    result = asyncio.run(_call(module_prefix, "orchestrator", "workflow.list", {}))
    assert result.status.value == "COMPLETED", result.error
    names = {w["name"] for w in result.result["workflows"]}
    builtin = {p.stem for p in (ROOT / "agents/orchestrator/builtin").glob("*.yaml")}
    assert builtin and builtin <= names | set(result.result["unavailable"])


async def _call(prefix: str, worker_type: str, command_type: str, payload: dict) -> object:
    from enginedge_streams.client import BusClient

    client = BusClient([KAFKA], prefix=prefix, partitions=4)
    await client.start()
    try:
        return await client.call(worker_type, command_type, payload, timeout=60)
    finally:
        await client.stop()

"""Fixtures for the LaTeX worker's TeX tests: the real TeX runner (Debian TeX Live), pdfinfo
and pdftotext. The pure LaTeX tests (diagnostics, templates, requests) are in tests/unit/latex.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from agents.latex.latexmk_tex_runner import LatexmkTexRunner
from agents.latex.sandbox import Limits
from tests.unit.latex.conftest import policy, store  # noqa: F401 (fixtures)

if shutil.which("latexmk") is None:  # installed by scripts/install-system-deps.sh
    pytest.skip("TeX Live (latexmk) is not installed", allow_module_level=True)


@pytest.fixture(scope="session")
def tex_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("latex-cache")


_made: list[LatexmkTexRunner] = []


@pytest.fixture(autouse=True)
async def _stop_runners():
    """Every runner a test made is stopped after it (its warm-up never outlives the test)."""
    yield
    while _made:
        await _made.pop().stop()


def make_runner(cache: Path, work: Path, *, sandbox: str = "auto", **kw) -> LatexmkTexRunner:
    limits = Limits(
        cpu_seconds=kw.pop("cpu_seconds", 60),
        memory_bytes=kw.pop("memory_bytes", 2 << 30),
        max_file_bytes=kw.pop("max_file_bytes", 20_000_000),
    )
    runner = LatexmkTexRunner(
        limits=limits,
        max_workdir_bytes=kw.pop("max_workdir_bytes", 200_000_000),
        max_concurrent=kw.pop("max_concurrent", 2),
        sandbox=sandbox,  # type: ignore[arg-type]
        work_root=work,
        cache_dir=cache,
        **kw,
    )
    _made.append(runner)
    return runner


@pytest.fixture
async def runner(tex_cache: Path, tmp_path: Path):
    r = make_runner(tex_cache, tmp_path / "work")
    await r.start()
    await r.warmed()
    yield r
    await r.stop()


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pdf_pages(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / "info.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("Pages:"))
    return int(line.split()[1])

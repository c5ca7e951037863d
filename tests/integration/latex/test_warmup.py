"""The lualatex font-cache warm-up: once per TeX installation, nothing left behind on failure.

These run on whatever state TeX Live's system ``luatex-cache`` is in (a fresh machine has
none): the warm-up must succeed either way, and a failure (forced with a memory limit
that lualatex cannot start under) is recorded once, not retried by every runner.
"""

from __future__ import annotations

import shutil

import pytest

import agents.latex.latexmk_tex_runner as module
from agents.latex.ports import CompileJob
from tests.integration.latex.conftest import make_runner

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(not shutil.which("bwrap"), reason="lualatex runs only inside bubblewrap"),
]


def leftovers(work) -> list[str]:
    return sorted(p.name for p in work.iterdir()) if work.exists() else []


async def test_a_warm_up_builds_the_cache_once_and_is_not_counted(tmp_path):
    cache, work = tmp_path / "cache", tmp_path / "work"
    runner = make_runner(cache, work)
    await runner.start()
    assert runner.mode == "bwrap", runner.problem
    await runner.warmed()
    assert (cache / "lua" / ".complete").read_text().strip() == module.tex_fingerprint()
    assert runner.completed == 0 and runner.running == 0  # its own compile is not a job's
    assert leftovers(work) == []
    doc = b"\\documentclass{article}\\begin{document}Lua $y$\\end{document}"
    out = await runner.compile(CompileJob("main.tex", {"main.tex": doc}, engine="lualatex"))
    assert out.outcome == "ok" and out.passes == 1  # the cache made a second pass unneeded
    assert runner.completed == 1 and leftovers(work) == []
    again = make_runner(cache, tmp_path / "work2")
    await again.start()
    await again.warmed()
    assert again.completed == 0  # found the cache: no compile at all
    await runner.stop()
    await again.stop()


async def test_a_failed_warm_up_leaves_nothing_and_is_not_retried(tmp_path, monkeypatch):
    cache, work = tmp_path / "cache", tmp_path / "work"
    broken = make_runner(cache, work, memory_bytes=40 << 20)  # lualatex cannot start
    await broken.start()
    await broken.warmed()
    failed = cache / "lua.failed"
    assert failed.read_text().startswith(module.tex_fingerprint())
    assert not (cache / "lua").exists()
    assert leftovers(work) == []  # no latex-* nor latex-keep-* directory

    calls: list[str] = []
    real_compile = module.LatexmkTexRunner.compile

    async def counting(self, job, **kw):
        calls.append(job.main_filename)
        return await real_compile(self, job, **kw)

    monkeypatch.setattr(module.LatexmkTexRunner, "compile", counting)
    second = make_runner(cache, tmp_path / "work2")
    await second.start()
    await second.warmed()
    assert calls == []  # the same installation failed before: not retried
    # A changed TeX installation (e.g. scripts/setup-tex.sh ran) is tried again, and works.
    monkeypatch.setattr(module, "tex_fingerprint", lambda: "a-new-installation")
    third = make_runner(cache, tmp_path / "work3")
    await third.start()
    await third.warmed()
    assert calls == ["warm.tex"]
    assert (cache / "lua" / ".complete").read_text().strip() == "a-new-installation"
    assert not failed.exists()
    assert leftovers(tmp_path / "work3") == []
    for r in (broken, second, third):
        await r.stop()


async def test_runners_sharing_a_cache_warm_up_one_at_a_time(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir()
    holder = module._try_lock(cache / ".warmup.lock")
    assert holder is not None
    runner = make_runner(cache, tmp_path / "work")
    await runner.start()
    await runner.warmed()  # the lock is taken: it carries on without the cache
    assert not (cache / "lua").exists() and not (cache / "lua.failed").exists()
    holder.close()
    await runner.stop()

"""The hostile set: each attack is refused or limited with a clear error, the host untouched.

pdflatex attacks run twice: inside bubblewrap and with TeX's own restrictions
alone (LATEX_SANDBOX=none), so each layer is shown to hold by itself.
"""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path

import psutil
import pytest

from agents.latex.handlers import CompilePolicy, handle_compile
from agents.latex.messages import CompileDocument
from enginedge_streams.errors import LimitExceededError, PermanentError
from tests.integration.latex.conftest import make_runner, pdf_text
from tests.unit.latex.conftest import context

pytestmark = pytest.mark.timeout(120)

MODES = ["bwrap", "none"] if shutil.which("bwrap") else ["none"]


@pytest.fixture(params=MODES)
async def hostile(request, tex_cache, tmp_path):
    runner = make_runner(tex_cache, tmp_path / "work", sandbox=request.param)
    await runner.start()
    await runner.warmed()
    assert runner.mode == request.param, runner.problem
    yield runner
    await runner.stop()


def doc(body: str) -> str:
    return "\\documentclass{article}\n\\begin{document}\n" + body + "\n\\end{document}\n"


async def run(runner, store, body: str, *, engine="pdflatex", policy=None, **fields):
    cmd = CompileDocument(main=doc(body), engine=engine, **fields)
    return await handle_compile(
        cmd, tex=runner, artifacts=store, policy=policy or CompilePolicy(), ctx=context()
    )


def host_marker() -> Path:
    return Path("/tmp") / f"latex-pwned-{uuid.uuid4().hex}"


@pytest.mark.parametrize("primitive", ["\\write18", "\\immediate\\write18"])
async def test_shell_escape_never_runs(primitive, hostile, store, tmp_path):
    marker = host_marker()
    out = await run(hostile, store, f"{primitive}{{touch {marker}}}Text after.")
    assert not marker.exists()
    blocked = [w for w in out["warnings"] if w["kind"] == "shell_escape_blocked"]
    assert blocked and str(marker) in blocked[0]["command"]
    assert "shell escape is disabled" in blocked[0]["message"]
    _, pdf = await store.get(out["artifact"]["artifact_id"])
    assert "Text after." in pdf_text(pdf, tmp_path)


async def test_input_of_the_password_file_fails_clearly(hostile, store):
    with pytest.raises(PermanentError) as exc:
        await run(hostile, store, "Secret: \\input{/etc/passwd}")
    err = exc.value
    assert err.code == "LATEX_ERROR"
    first = err.details["errors"][0]
    assert first["kind"] == "file_access_denied" and first["line"] == 3
    assert "outside the compile directory" in first["message"]
    assert "root:" not in err.details["log"]


@pytest.mark.parametrize("target", ["/tmp/latex-outside-{}.txt", "../latex-outside-{}.txt"])
async def test_writing_outside_the_directory_fails(target, hostile, store, tmp_path):
    name = target.format(uuid.uuid4().hex)
    body = f"\\immediate\\openout5={name}\\immediate\\write5{{owned}}\\immediate\\closeout5 x"
    with pytest.raises(PermanentError) as exc:
        await run(hostile, store, body)
    first = exc.value.details["errors"][0]
    assert first["kind"] == "file_access_denied" and first["line"] == 3
    assert not Path(name.replace("../", "/tmp/")).exists()
    assert not (tmp_path / "work" / Path(name).name).exists()


async def test_pdftex_file_primitives_cannot_read_host_files(hostile, store, tmp_path):
    body = "Dump:[\\pdffiledump offset 0 length 16 {/etc/passwd}] Size:[\\pdffilesize{/etc/passwd}]"
    out = await run(hostile, store, body)
    _, pdf = await store.get(out["artifact"]["artifact_id"])
    text = pdf_text(pdf, tmp_path)
    assert "Dump:[] Size:[]" in text


async def test_infinite_loop_is_killed_at_the_timeout_and_the_runner_carries_on(
    hostile, store, tmp_path
):
    me = psutil.Process()
    started = time.monotonic()
    with pytest.raises(PermanentError) as exc:
        await run(hostile, store, "\\def\\x{\\x}\\x", timeout_seconds=2)
    elapsed = time.monotonic() - started
    assert exc.value.code == "LATEX_TIMEOUT"
    assert "2s wall-clock limit" in exc.value.message
    assert 2 <= elapsed < 8
    time.sleep(0.2)
    assert not [p for p in me.children(recursive=True) if "tex" in p.name() or "bwrap" in p.name()]
    assert [p for p in (tmp_path / "work").iterdir() if p.name.startswith("latex-")] == []
    out = await run(hostile, store, "Next command works.")
    assert out["artifact"]["pages"] == 1


async def test_log_flood_hits_the_file_size_limit(tex_cache, tmp_path, store):
    runner = make_runner(tex_cache, tmp_path / "w", max_file_bytes=1_000_000)
    await runner.start()
    body = "\\def\\a{\\message{" + "0123456789" * 10 + "}\\a}\\a"
    with pytest.raises(LimitExceededError) as exc:
        await run(runner, store, body, timeout_seconds=20)
    assert exc.value.code == "OUTPUT_TOO_LARGE"
    assert "1,000,000-byte file size limit" in exc.value.message


async def test_page_flood_hits_the_output_cap(tex_cache, tmp_path, store):
    runner = make_runner(tex_cache, tmp_path / "w", max_file_bytes=150_000)
    await runner.start()
    body = "\\newcount\\n\\loop Page \\the\\n\\newpage\\advance\\n by 1 \\ifnum\\n<5000 \\repeat"
    with pytest.raises(LimitExceededError) as exc:
        await run(runner, store, body, timeout_seconds=30)
    assert exc.value.code == "OUTPUT_TOO_LARGE"


async def test_directory_size_watchdog_stops_a_growing_compile(tex_cache, tmp_path, store):
    runner = make_runner(
        tex_cache, tmp_path / "w", max_file_bytes=50_000_000, max_workdir_bytes=2_000_000
    )
    await runner.start()
    body = "\\def\\a{\\message{" + "0123456789" * 10 + "}\\a}\\a"
    with pytest.raises(LimitExceededError) as exc:
        await run(runner, store, body, timeout_seconds=20)
    assert exc.value.code == "OUTPUT_TOO_LARGE" and "limits 2,000,000 bytes" in exc.value.message


async def test_tex_memory_exhaustion_is_a_clear_error(hostile, store):
    with pytest.raises(PermanentError) as exc:
        await run(hostile, store, "\\def\\x{x\\x}\\x", timeout_seconds=20)
    first = exc.value.details["errors"][0]
    assert first["kind"] == "capacity_exceeded" and "TeX capacity exceeded" in first["message"]


@pytest.mark.skipif(not shutil.which("bwrap"), reason="lualatex runs only inside bubblewrap")
async def test_lualatex_lua_cannot_touch_the_host(runner, store, tmp_path, monkeypatch):
    assert runner.mode == "bwrap"
    monkeypatch.setenv("LATEX_TEST_SECRET", "s3cr3t-value")
    marker = host_marker()
    body = (
        "\\directlua{local f = io.open('/etc/passwd'); "
        "tex.print(f and ('READ:' .. f:read('*l')) or 'NOREAD')}\n"
        f"\\directlua{{local f = io.open('{marker}', 'w'); "
        "tex.print(f and 'WROTE' or 'NOWRITE'); if f then f:write('x'); f:close() end}\n"
        "\\directlua{tex.print('ENV:' .. tostring(os.getenv('LATEX_TEST_SECRET')))}\n"
        "\\directlua{tex.print('EXEC:' .. tostring(os.execute('true')))}\n"
    )
    out = await run(runner, store, body, engine="lualatex")
    _, pdf = await store.get(out["artifact"]["artifact_id"])
    text = pdf_text(pdf, tmp_path)
    assert "NOREAD" in text and "root:" not in text
    assert not marker.exists()  # it could only write into the sandbox's private /tmp
    assert "ENV:nil" in text and "s3cr3t" not in text
    assert "EXEC:nil" in text or "EXEC:false" in text


async def test_memory_limit_stops_the_engine_with_a_clear_error(tex_cache, tmp_path, store):
    runner = make_runner(tex_cache, tmp_path / "w", memory_bytes=40 << 20)
    await runner.start()
    with pytest.raises(LimitExceededError) as exc:
        await run(runner, store, "x")
    assert exc.value.code == "RESOURCE_LIMIT"
    assert "memory 40 MiB" in exc.value.message


async def test_required_bubblewrap_missing_makes_the_worker_unready(
    tex_cache, tmp_path, monkeypatch
):
    import agents.latex.latexmk_tex_runner as module

    monkeypatch.setattr(module, "bwrap_available", lambda: False)
    required = make_runner(tex_cache, tmp_path / "a", sandbox="bwrap")
    await required.start()
    ok, detail = await required.ready()
    assert not ok and "LATEX_SANDBOX=bwrap" in detail and "not installed" in detail
    fallback = make_runner(tex_cache, tmp_path / "b", sandbox="auto")
    await fallback.start()
    ok, detail = await fallback.ready()
    assert ok and "sandbox=none" in detail and "lualatex" not in fallback.engines


async def test_a_cancelled_compile_kills_tex_and_removes_its_directory(hostile, tmp_path):
    import asyncio

    from agents.latex.ports import CompileJob

    me = psutil.Process()
    job = CompileJob("main.tex", {"main.tex": doc("\\def\\x{\\x}\\x").encode()}, timeout_seconds=60)
    task = asyncio.create_task(hostile.compile(job))
    await asyncio.sleep(1.5)
    assert [p for p in me.children(recursive=True) if "latex" in " ".join(p.cmdline())]
    task.cancel()  # what a passed command deadline or a worker shutdown does
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.3)
    assert not [p for p in me.children(recursive=True) if "latex" in " ".join(p.cmdline())]
    assert [p for p in (tmp_path / "work").iterdir() if p.name.startswith("latex-")] == []

"""Page limit enforced while TeX runs, terminal input, partial PDFs (the real TeX runner)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from agents.latex.handlers import CompilePolicy, handle_compile
from agents.latex.messages import CompileDocument
from enginedge_streams.errors import LimitExceededError, PermanentError
from tests.integration.latex.conftest import pdf_pages
from tests.unit.latex.conftest import context

pytestmark = pytest.mark.timeout(120)

TESTPAGE = Path("/usr/share/texlive/texmf-dist/tex/latex/base/testpage.tex")


def doc(body: str, preamble: str = "") -> str:
    return f"\\documentclass{{article}}\n{preamble}\\begin{{document}}\n{body}\n\\end{{document}}\n"


async def compile_(runner, store, main: str, *, policy=None, **fields):
    cmd = CompileDocument(main=main, **fields)
    return await handle_compile(
        cmd, tex=runner, artifacts=store, policy=policy or CompilePolicy(), ctx=context()
    )


SHIPOUT_LOOP = (
    "\\newcount\\n\\loop\\shipout\\hbox{Page \\the\\n}\\advance\\n by 1 \\ifnum\\n<100000 \\repeat"
)
#: The primitive, past LaTeX's shipout hooks: only the log watcher can stop it.
PRIMITIVE_LOOP = (
    "\\ExplSyntaxOn\\newcount\\n"
    "\\loop\\tex_shipout:D\\hbox{Page~\\the\\n}\\advance\\n by 1 \\ifnum\\n<100000 \\repeat"
    "\\ExplSyntaxOff"
)


async def test_a_shipout_loop_is_stopped_at_the_page_limit(runner, store):
    started = time.monotonic()
    with pytest.raises(LimitExceededError) as exc:
        await compile_(runner, store, doc(SHIPOUT_LOOP), policy=CompilePolicy(max_pages=50))
    assert exc.value.code == "PAGE_LIMIT_EXCEEDED"
    assert "limit of 50" in exc.value.message and "stopped at page 51" in exc.value.message
    assert exc.value.details["max_pages"] == 50
    assert time.monotonic() - started < 20  # stopped at page 51, not after 100,000 pages
    assert runner.running == 0


async def test_a_command_may_ask_for_fewer_pages_but_not_more(runner, store):
    body = "A\\newpage B\\newpage C"
    out = await compile_(runner, store, doc(body), max_pages=3)
    assert out["artifact"]["pages"] == 3 and out["artifact"]["partial"] is False
    with pytest.raises(LimitExceededError) as exc:
        await compile_(runner, store, doc(body), max_pages=2)
    assert exc.value.code == "PAGE_LIMIT_EXCEEDED" and exc.value.details["max_pages"] == 2
    with pytest.raises(LimitExceededError) as exc:  # the worker's cap wins
        await compile_(runner, store, doc(body), max_pages=500, policy=CompilePolicy(max_pages=2))
    assert exc.value.details["max_pages"] == 2


async def test_primitive_shipouts_past_the_hooks_are_stopped_from_the_log(runner, store):
    started = time.monotonic()
    with pytest.raises(LimitExceededError) as exc:
        await compile_(
            runner,
            store,
            doc(PRIMITIVE_LOOP),
            policy=CompilePolicy(max_pages=20, timeout_seconds=60),
        )
    assert exc.value.code == "PAGE_LIMIT_EXCEEDED"
    assert time.monotonic() - started < 30


async def test_a_document_waiting_for_the_terminal_says_so(runner, store):
    main = doc("x", preamble="\\typein[\\papertype]{Paper size?}\n")
    with pytest.raises(PermanentError) as exc:
        await compile_(runner, store, main)
    first = exc.value.details["errors"][0]
    assert first["kind"] == "terminal_input" and first["line"] == 2
    assert "waits for input from the terminal" in exc.value.message
    assert "Emergency stop" not in exc.value.message
    assert first["prompt"] == "Paper size?"


@pytest.mark.skipif(not TESTPAGE.is_file(), reason="LaTeX's testpage.tex is not installed")
async def test_latex_testpage_compiles_with_its_answers_supplied(runner, store, tmp_path):
    main = TESTPAGE.read_text()
    out = await compile_(runner, store, main, terminal_input=["a4paper", "y"])
    _, pdf = await store.get(out["artifact"]["artifact_id"])
    assert out["artifact"]["pages"] == pdf_pages(pdf, tmp_path) == 2  # two-sided: 2 pages
    out = await compile_(runner, store, main, terminal_input=["letterpaper", "n"])
    assert out["artifact"]["pages"] == 1
    with pytest.raises(PermanentError) as exc:  # one answer short
        await compile_(runner, store, main, terminal_input=["a4paper"])
    assert exc.value.details["errors"][0]["kind"] == "terminal_input"
    assert "more" in exc.value.details["errors"][0]["message"]


async def test_a_failed_compile_returns_the_pdf_tex_produced_as_partial(runner, store, tmp_path):
    main = doc("Before the error.\n\\undefinedcommand\n\\newpage After it.")
    with pytest.raises(PermanentError) as exc:
        await compile_(runner, store, main)
    assert exc.value.code == "LATEX_ERROR"
    partial = exc.value.details["partial_artifact"]
    assert partial["partial"] is True and partial["pages"] == 2
    info, pdf = await store.get(partial["artifact_id"])
    assert info.metadata["partial"] == "true"
    assert pdf_pages(pdf, tmp_path) == 2


async def test_no_partial_pdf_when_tex_produced_none(runner, store):
    with pytest.raises(PermanentError) as exc:
        await compile_(runner, store, "\\documentclass{article}\\begin{document}\\input{nofile}")
    assert "partial_artifact" not in exc.value.details


@pytest.mark.skipif(not shutil.which("latexmk"), reason="TeX Live is not installed")
async def test_passes_running_out_is_a_warning_not_a_failure(runner, store):
    main = doc("See \\ref{x}.\\section{S}\\label{x}\\tableofcontents")
    out = await compile_(runner, store, main, max_passes=1)
    assert out["artifact"]["pages"] == 1
    assert out["warnings"][0]["kind"] == "not_converged"


@pytest.mark.parametrize("engine", ["xelatex", "lualatex"])
async def test_the_page_limit_holds_for_every_engine(engine, runner, store):
    if engine not in runner.engines:
        pytest.skip(f"{engine} is not available here")
    with pytest.raises(LimitExceededError) as exc:
        await compile_(
            runner, store, doc(SHIPOUT_LOOP), engine=engine, policy=CompilePolicy(max_pages=5)
        )
    assert exc.value.code == "PAGE_LIMIT_EXCEEDED" and "stopped at page 6" in exc.value.message

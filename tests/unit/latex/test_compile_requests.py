"""What the compile handler refuses before any TeX run: request paths and contents, input size,
base64, no time left (a canned runner that records each job; the compiles themselves are in
tests/integration/latex/test_compile.py)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError as PydanticValidationError

from agents.latex.handlers import CompilePolicy, handle_compile
from agents.latex.messages import CompileDocument, InputFile
from agents.latex.ports import CompileOutcome
from enginedge_streams.errors import DeadlineExceededError, LimitExceededError, ValidationError
from tests.unit.latex.conftest import context
from tests.unit.latex.test_diagnose_step import CannedTex

TINY = "\\documentclass{article}\\begin{document}x\\end{document}"


def tex() -> CannedTex:
    return CannedTex(CompileOutcome("ok", b"%PDF-1.5", "", "", 1))


async def compile_(cmd: CompileDocument, runner: CannedTex, store, policy=None, ctx=None):
    return await handle_compile(
        cmd, tex=runner, artifacts=store, policy=policy or CompilePolicy(), ctx=ctx or context()
    )


async def test_fifty_megabyte_input_is_refused(store):
    huge = "x" * 50_000_000
    with pytest.raises(PydanticValidationError) as exc:
        CompileDocument(main=huge)
    assert "at most 5000000 characters" in str(exc.value)
    # Within the model's caps but over the worker's configured input limit:
    cmd = CompileDocument(main=TINY, files=[InputFile(path="big.txt", content="y" * 3_000_000)])
    runner = tex()
    with pytest.raises(LimitExceededError) as err:
        await compile_(cmd, runner, store, policy=CompilePolicy(max_input_bytes=1_000_000))
    assert err.value.code == "INPUT_TOO_LARGE" and "1,000,000" in err.value.message
    assert runner.jobs == []  # refused before any TeX run


async def test_invalid_base64_is_a_validation_error(store):
    cmd = CompileDocument(main=TINY, files=[InputFile(path="a.png", content_base64="not base64!!")])
    runner = tex()
    with pytest.raises(ValidationError, match="not valid base64"):
        await compile_(cmd, runner, store)
    assert runner.jobs == []


async def test_no_time_left_before_the_deadline(store):
    runner = tex()
    with pytest.raises(DeadlineExceededError):
        await compile_(CompileDocument(main=TINY), runner, store, ctx=context(seconds=0.2))
    assert runner.jobs == []


async def test_a_request_within_the_limits_reaches_the_runner(store):
    runner = tex()
    out = await compile_(CompileDocument(main=TINY), runner, store)
    assert [job.main_filename for job in runner.jobs] == ["main.tex"]
    assert out["artifact"]["size"] == len(b"%PDF-1.5")


@pytest.mark.parametrize(
    "path",
    [
        "../escape.tex",
        "/etc/passwd",
        ".latexmkrc",
        "latexmkrc",
        "a/../../b.tex",
        "run.sh",
        "sub/.hidden.tex",
        "a/b/c/d/e/f.tex",
        "x\\y.tex",
        "texmf.cnf",
    ],
)
def test_unsafe_extra_file_paths_are_refused(path):
    with pytest.raises(PydanticValidationError):
        InputFile(path=path, content="x")


def test_safe_paths_and_one_content_rule():
    assert InputFile(path="img/logo.png", content_base64="AA==").path == "img/logo.png"
    with pytest.raises(PydanticValidationError, match="exactly one"):
        InputFile(path="a.tex")
    with pytest.raises(PydanticValidationError, match="unique"):
        CompileDocument(main="x", files=[InputFile(path="main.tex", content="y")])
    with pytest.raises(PydanticValidationError, match="outputs"):
        CompileDocument(main="x", files=[InputFile(path="main.pdf", content_base64="AA==")])
    with pytest.raises(PydanticValidationError):
        CompileDocument(main="x", engine="context")
    with pytest.raises(PydanticValidationError):
        CompileDocument(main="x", shell_escape=True)  # extra="forbid": no way to ask for it

"""The compile handler reads the TeX log in the compute pool (no TeX run: a canned outcome)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.latex.handlers import CompilePolicy, handle_compile
from agents.latex.messages import CompileDocument
from agents.latex.ports import CompileJob, CompileOutcome
from enginedge_streams.errors import LimitExceededError, PermanentError
from enginedge_streams.testing.compute_pool import InProcessComputePool
from tests.unit.latex.conftest import context
from tests.unit.latex.test_diagnostics_logs import WARNINGS_TEX

LOGS = Path(__file__).parent / "logs"
MAIN = "\\documentclass{article}\n\\begin{document}\nHello\n\\badmacro\n\\end{document}\n"
ERROR_LOG = (
    "This is pdfTeX, Version 3.141592653-2.6-1.40.24 (TeX Live 2022/Debian)\n"
    "(./main.tex\nLaTeX2e <2022-11-01>\n"
    "./main.tex:4: Undefined control sequence.\nl.4 \\badmacro\n\n"
    ")\nOutput written on main.pdf (1 page, 1000 bytes).\n"
)


class CannedTex:
    """A TexRunner that returns a fixed outcome (what TeX wrote is the step's input)."""

    engines = ("pdflatex",)

    def __init__(self, outcome: CompileOutcome) -> None:
        self.outcome = outcome
        self.jobs: list[CompileJob] = []

    async def compile(self, job: CompileJob) -> CompileOutcome:
        self.jobs.append(job)
        return self.outcome


def outcome(log: str, kind: str = "failed") -> CompileOutcome:
    return CompileOutcome(kind, b"%PDF-1.5 partial" if kind == "ok" else None, log, "", 1)  # type: ignore[arg-type]


async def test_the_log_is_read_by_the_compute_step_and_its_errors_come_back(store):
    pool = InProcessComputePool()  # pickles the step, its arguments and the diagnostics
    with pytest.raises(PermanentError) as exc:
        await handle_compile(
            CompileDocument(main=MAIN),
            tex=CannedTex(outcome(ERROR_LOG)),
            artifacts=store,
            policy=CompilePolicy(diagnose_timeout_seconds=7.0),
            ctx=context(),
            compute=pool,
        )
    assert exc.value.code == "LATEX_ERROR" and "main.tex:4:" in exc.value.message
    first = exc.value.details["errors"][0]
    assert (first["kind"], first["line"], first["command"]) == (
        "undefined_control_sequence",
        4,
        "\\badmacro",
    )
    assert pool.calls == [("agents.latex.compute.diagnose_step", 7.0)]


async def test_warnings_of_a_real_log_cross_the_process_boundary(store):
    pool = InProcessComputePool()
    out = await handle_compile(
        CompileDocument(main=WARNINGS_TEX),
        tex=CannedTex(outcome((LOGS / "warnings.log").read_text(), kind="ok")),
        artifacts=store,
        policy=CompilePolicy(),
        ctx=context(),
        compute=pool,
    )
    assert out["errors"] == [] and out["artifact"]["content_type"] == "application/pdf"
    assert any(w.get("file", "").endswith("fixltx2e.sty") for w in out["warnings"])
    assert [name for name, _ in pool.calls] == ["agents.latex.compute.diagnose_step"]


async def test_a_log_that_cannot_be_read_in_time_fails_with_its_limit_code(store):
    with pytest.raises(LimitExceededError) as exc:
        await handle_compile(
            CompileDocument(main=MAIN),
            tex=CannedTex(outcome(ERROR_LOG)),
            artifacts=store,
            policy=CompilePolicy(diagnose_timeout_seconds=0.0),  # no time at all
            ctx=context(),
            compute=InProcessComputePool(),
        )
    assert exc.value.code == "LOG_PARSE_TIME_LIMIT"
    assert exc.value.details["step"] == "agents.latex.compute.diagnose_step"

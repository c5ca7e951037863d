"""The report's PDF paths and the LLM grader's fallback, with a scripted bus (no Kafka).

* LaTeX worker absent, or its compile fails -> the reportlab PDF (real bytes, checked text);
* the LaTeX source: specials escaped, accented names kept, other scripts reduced;
* a grading call past its deadline -> the rule-based score stands, the reason is reported.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from pypdf import PdfReader

from agents.interview.bus_adapters import BusAnswerGrader
from agents.interview.model import Question
from agents.interview.renderers import (
    AutoReportRenderer,
    LatexReportRenderer,
    ReportlabReportRenderer,
)
from agents.interview.report import grade_with_llm, latex_source, tex
from agents.interview.scoring import DEFAULT_RULE_WEIGHTS, rule_score
from enginedge_streams.adapters.kafka_bus_caller import KafkaBusCaller
from enginedge_streams.errors import DeadlineExceededError, DependencyUnavailableError
from enginedge_streams.records import ErrorInfo, Result, Status
from enginedge_streams.testing.artifact_store import InMemoryArtifactStore

pytestmark = pytest.mark.timeout(60)

NAME = "Ada Núñez-Lovelace"
REPORT: dict[str, Any] = {
    "session_id": "s1",
    "candidate": {"name": NAME},
    "template_name": "Mini & co",
    "overall_score": 71,
    "evaluator": "rules",
    "phases": [{"phase": "behavioral", "score": 71, "weight": 1.0, "answered": 1, "questions": 1}],
    "questions": [
        {
            "phase": "behavioral",
            "question": "Tell me about a conflict.",
            "score": 71,
            "outcome": "answered",
            "evaluator": "rules",
            "evidence": ["we reached a compromise"],
            "feedback": ["cover: result"],
        }
    ],
}


class ScriptedBus:
    """`bus.call` answering per (worker, command type): a Result, or an exception to raise."""

    def __init__(self, answers: dict[tuple[str, str], Any]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str, dict[str, Any], float]] = []

    async def call(
        self, worker: str, command_type: str, payload: dict[str, Any], *, timeout: float
    ) -> Result:
        self.calls.append((worker, command_type, payload, timeout))
        answer = self.answers[(worker, command_type)]
        if isinstance(answer, Exception):
            raise answer
        return Result(
            command_id="c1",
            worker_type=worker,
            command_type=command_type,
            status=answer[0],
            result=answer[1] if answer[0] is Status.COMPLETED else None,
            error=answer[1] if answer[0] is Status.FAILED else None,
        )


def renderer(bus: ScriptedBus, store: InMemoryArtifactStore, mode: str = "auto") -> Any:
    return AutoReportRenderer(
        LatexReportRenderer(KafkaBusCaller(bus)),
        ReportlabReportRenderer(store),
        KafkaBusCaller(bus),
        mode=mode,
        probe_timeout=0.1,
    )


def pdf_text(pdf: bytes) -> str:
    """The PDF's text, read in process (tests/support/pdf_text.py runs poppler's pdftotext)."""
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


async def stored_pdf(store: InMemoryArtifactStore, out: dict[str, Any]) -> bytes:
    item = await store.get(out["artifact_id"])
    assert item is not None and base64.b64decode(out["content_base64"]) == item[1]
    return item[1]


async def test_no_latex_worker_falls_back_to_a_reportlab_pdf_naming_the_candidate():
    bus = ScriptedBus({("latex", "system.ping"): DeadlineExceededError("no answer")})
    store = InMemoryArtifactStore()
    out = await renderer(bus, store).render(REPORT, artifact_id="report-a")
    assert out["renderer"] == "reportlab" and out["served_by"] == "interview"
    assert out["url"] == "/artifacts/report-a" and "latex_error" not in out
    assert [c[1] for c in bus.calls] == ["system.ping"]  # no compile was attempted
    pdf = await stored_pdf(store, out)
    assert pdf.startswith(b"%PDF") and len(pdf) == out["size"]
    text = pdf_text(pdf)
    assert NAME in text and "71/100" in text and "we reached a compromise" in text


async def test_a_failed_latex_compile_falls_back_to_reportlab_with_the_reason():
    error = ErrorInfo(code="LATEX_ERROR", message="main.tex:3: Undefined control sequence")
    bus = ScriptedBus(
        {
            ("latex", "system.ping"): (Status.COMPLETED, {"pong": True}),
            ("latex", "latex.compile"): (Status.FAILED, error),
        }
    )
    store = InMemoryArtifactStore()
    out = await renderer(bus, store).render(REPORT, artifact_id="report-b")
    assert out["renderer"] == "reportlab" and "LATEX_ERROR" in out["latex_error"]
    assert NAME in pdf_text(await stored_pdf(store, out))
    with pytest.raises(Exception, match="LATEX_ERROR"):  # `latex` mode: no silent fallback
        await renderer(bus, InMemoryArtifactStore(), "latex").render(REPORT, artifact_id="x")


async def test_the_latex_worker_gets_the_escaped_source_and_its_artifact_is_returned():
    artifact = {"artifact_id": "pdf-1", "sha256": "ab", "size": 10, "url": "/artifacts/pdf-1"}
    bus = ScriptedBus(
        {
            ("latex", "system.ping"): (Status.COMPLETED, {"pong": True}),
            ("latex", "latex.compile"): (Status.COMPLETED, {"artifact": artifact}),
        }
    )
    out = await renderer(bus, InMemoryArtifactStore()).render(REPORT, artifact_id="r")
    assert out == {**artifact, "renderer": "latex", "served_by": "latex"}
    _, _, payload, _ = bus.calls[-1]
    assert payload["engine"] == "pdflatex" and payload["filename"] == "interview-report.pdf"
    assert f"Interview report: {NAME}" in payload["main"]
    assert "Mini \\& co" in payload["main"] and "\\usepackage[T1]{fontenc}" in payload["main"]


def test_tex_escapes_specials_keeps_latin1_and_reduces_other_scripts():
    assert tex("50% & $x$ #1 a_b {c} ~ ^ \\input") == (
        "50\\% \\& \\$x\\$ \\#1 a\\_b \\{c\\} \\textasciitilde{} \\textasciicircum{} "
        "\\textbackslash{}input"
    )
    assert tex("José Müller") == "José Müller"  # printed by T1 fonts
    assert tex("Antonín Dvořák") == "Antonín Dvorák"  # ř -> r (not in Latin-1)
    assert tex("李 Wei") == "? Wei"
    assert tex("two\nlines\u00a0here\x00") == "two lines here"
    source = latex_source({**REPORT, "candidate": {"name": "\\end{document}"}})
    assert source.count("\\end{document}") == 1


def rules_of(question: Question, answer: str) -> dict[str, Any]:
    return rule_score(question, answer, None, spoken=False, weights=dict(DEFAULT_RULE_WEIGHTS))


async def test_a_grading_call_past_its_deadline_leaves_the_rule_score_with_the_reason():
    bus = ScriptedBus(
        {
            ("llm", "system.ping"): (Status.COMPLETED, {"pong": True}),
            ("llm", "assistant.complete"): DeadlineExceededError("deadline"),
        }
    )
    grader = BusAnswerGrader(KafkaBusCaller(bus), timeout=3.0)
    assert await grader.available() is True
    with pytest.raises(DependencyUnavailableError, match=r"did not answer assistant\.complete"):
        await grader.grade("prompt")
    question = Question(question_id="q1", phase="behavioral", text="Tell me about a conflict.")
    check = await grade_with_llm(grader, question, "an answer", rules_of(question, "an answer"))
    assert check.verdict is None and check.reason == "LLM_UNAVAILABLE"
    assert "within 3s" in check.detail
    assert bus.calls[-1][3] == 3.0  # the configured deadline is the call's timeout


async def test_a_failed_grading_call_is_reported_not_raised():
    error = ErrorInfo(code="RATE_LIMITED", message="slow down", retryable=True)
    bus = ScriptedBus({("llm", "assistant.complete"): (Status.FAILED, error)})
    grader = BusAnswerGrader(KafkaBusCaller(bus))
    question = Question(question_id="q1", phase="technical", text="Explain a hash map.")
    check = await grade_with_llm(grader, question, "an answer", rules_of(question, "an answer"))
    assert check.verdict is None and check.reason == "LLM_UNAVAILABLE"
    assert "RATE_LIMITED" in check.detail

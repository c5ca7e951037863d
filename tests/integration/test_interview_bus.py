"""The interview worker over the real Kafka with a real spaCy worker: a full session with typed
answers and one spoken answer (espeak-ng audio -> faster-whisper), the report, phase time limits
enforced by the worker's own timer, illegal transitions, and the events topic.

The report goes over the bus to the real LaTeX worker (PDF) and to a fake `llm` worker
(`tests/support/interview_fake_llm.py`, a deterministic grader): the LLM evaluator when it
answers in time, the rule-based one for an answer it does not grade in time."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import shutil
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from enginedge_streams.records import Status
from tests.support import interview_fake_llm as fake_llm
from tests.support.pdf_text import pdf_text
from tests.support.speech import have_tts, speak
from tests.support.stack import KAFKA
from tests.support.workers import latex_worker_env

pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.skipif(not have_tts(), reason="espeak-ng and sox: scripts/install-system-deps.sh"),
    pytest.mark.skipif(shutil.which("latexmk") is None, reason="TeX Live is not installed"),
]

SPOKEN = "I led a small team that built a new payment service. We tested every change and we shipped it on time."
TYPED = (
    "When I was working at Acme our team disagreed about the database. My task was to choose one. "
    "I decided to gather data and evidence, we listened and reached a compromise. As a result "
    "latency improved by 30% and we shipped on time."
)
TEMPLATE = {
    "template_id": "it-quick",
    "name": "IT quick",
    "follow_up_min_words": 0,
    "phases": [
        {"phase": "behavioral", "duration_seconds": 300, "question_count": 2},
        {"phase": "technical", "duration_seconds": 300, "question_count": 1},
    ],
    "rubric": {"behavioral": 0.5, "technical": 0.5},
}
TIMED = {
    "template_id": "it-timed",
    "name": "IT timed",
    "follow_up_min_words": 0,
    "phases": [
        {"phase": "coding", "duration_seconds": 3, "question_count": 1},
        {"phase": "system_design", "duration_seconds": 300, "question_count": 1},
    ],
}


LLM_TIMEOUT = 4  # the fake llm worker answers a "tortoise" answer only after 3x that


@pytest.fixture(scope="module")
def workers(module_worker_factory, tmp_path_factory):
    root = tmp_path_factory.mktemp("interview-bus")
    spacy = module_worker_factory("spacy", start=False)
    latex = module_worker_factory(
        "latex",
        start=False,
        env=latex_worker_env(root, timeout_s=60, prefix="latex-"),
    )
    llm = module_worker_factory(
        "llm",
        start=False,
        env={
            "WORKER_PLUGINS": "llm=tests.support.interview_fake_llm",
            "FAKE_LLM_SLOW_SECONDS": str(3 * LLM_TIMEOUT),
            "MAX_CONCURRENCY": "8",
        },
    )
    interview = module_worker_factory(
        "interview",
        start=False,
        env={
            "INTERVIEW_REPORT_RENDERER": "auto",
            "INTERVIEW_EVALUATOR": "auto",
            "INTERVIEW_LLM_MODEL": fake_llm.MODEL,  # a chosen grader model: auto uses the LLM
            "INTERVIEW_LLM_TIMEOUT_SECONDS": str(LLM_TIMEOUT),
            "INTERVIEW_TIMER_INTERVAL_SECONDS": "0.5",
            "MAX_CONCURRENCY": "4",
        },
    )
    for w in (spacy, latex, llm, interview):
        w.start(wait=False)
    for w in (spacy, latex, llm, interview):
        w.wait_ready(180)
    return {"interview": interview, "latex": latex}


async def call(bus: Any, ctype: str, payload: dict[str, Any], timeout: float = 120) -> Any:
    return await bus.call("interview", ctype, payload, timeout=timeout)


async def test_full_session_with_typed_and_spoken_answers(workers, module_bus, module_prefix):
    events = AIOKafkaConsumer(
        f"{module_prefix}worker.interview.events",
        bootstrap_servers=KAFKA,
        auto_offset_reset="earliest",
        group_id=None,
    )
    await events.start()
    try:
        added = await call(module_bus, "template.add", {"template": TEMPLATE})
        assert added.status is Status.COMPLETED, added.error
        start = await call(
            module_bus,
            "interview.start",
            {"template_id": "it-quick", "candidate": {"name": "Grace"}, "session_id": "it-s1"},
        )
        assert start.status is Status.COMPLETED, start.error
        assert start.result["current"]["phase"] == "behavioral"
        first = await call(module_bus, "interview.respond", {"session_id": "it-s1", "text": TYPED})
        assert first.status is Status.COMPLETED, first.error
        assert first.result["accepted"]["speech"]["filler_count"] == 0  # spaCy worker over the bus
        audio = base64.b64encode(speak(SPOKEN)).decode()
        spoken = await call(
            module_bus,
            "interview.respond",
            {"session_id": "it-s1", "audio": {"content_base64": audio, "format": "wav"}},
        )
        assert spoken.status is Status.COMPLETED, spoken.error
        heard = spoken.result["accepted"]
        assert heard["source"] == "audio" and "payment service" in heard["text"].lower()
        assert (
            heard["speech"]["words_per_minute"] > 60 and "duration_estimated" not in heard["speech"]
        )
        illegal = await call(module_bus, "interview.resume", {"session_id": "it-s1"})
        assert illegal.status is Status.FAILED and illegal.error.code == "ILLEGAL_TRANSITION"
        for _ in range(6):  # remaining questions and any follow-ups (coverage-driven)
            third = await call(
                module_bus, "interview.respond", {"session_id": "it-s1", "text": TYPED}
            )
            assert third.status is Status.COMPLETED, third.error
            if third.result["completed"]:
                break
        assert third.result["completed"] is True
        late = await call(module_bus, "interview.respond", {"session_id": "it-s1", "text": "more"})
        assert late.status is Status.FAILED and late.error.code == "ILLEGAL_TRANSITION"
        report = await call(  # the rules, asked for although the llm worker answers
            module_bus,
            "interview.report",
            {"session_id": "it-s1", "evaluator": "rules", "pdf": False},
        )
        assert report.status is Status.COMPLETED, report.error
        phases = {p["phase"]: p["score"] for p in report.result["phases"]}
        assert set(phases) == {"behavioral", "technical"} and all(
            0 <= s <= 100 for s in phases.values()
        )
        assert any(q["source"] == "audio" for q in report.result["questions"])
        assert report.result["evaluator"] == "rules" and "pdf" not in report.result
        got = await call(module_bus, "interview.get", {"session_id": "it-s1"})
        assert SPOKEN.split()[3] in json.dumps(got.result["transcript"])
        seen: list[str] = []
        while len(seen) < 3:
            msg = await asyncio.wait_for(events.getone(), 30)
            seen.append(json.loads(msg.value)["type"])
        assert seen == [
            "interview.session_started",
            "interview.session_completed",
            "interview.report_generated",
        ]
    finally:
        await events.stop()


async def test_phase_time_limit_expires_and_the_session_advances(workers, module_bus):
    assert (await call(module_bus, "template.add", {"template": TIMED})).status is Status.COMPLETED
    start = await call(
        module_bus,
        "interview.start",
        {"template_id": "it-timed", "candidate": {"name": "Linus"}, "session_id": "it-s2"},
    )
    assert start.result["current"]["phase"] == "coding"
    for _ in range(40):
        await asyncio.sleep(0.5)
        got = await call(module_bus, "interview.get", {"session_id": "it-s2"})
        if got.result["current"] and got.result["current"]["phase"] == "system_design":
            break
    assert got.result["phases"][0]["status"] == "timed_out"
    assert got.result["current"]["phase"] == "system_design"
    kinds = [e["kind"] for e in got.result["transcript"]]
    assert kinds == ["question", "phase_timeout", "question"]
    paused = await call(module_bus, "interview.pause", {"session_id": "it-s2"})
    assert paused.result["state"] == "paused"
    again = await call(module_bus, "interview.pause", {"session_id": "it-s2"})
    assert again.error.code == "ILLEGAL_TRANSITION" and "paused" in again.error.message


GRADED = {
    "template_id": "it-graded",
    "name": "IT graded",
    "follow_up_min_words": 0,
    "phases": [{"phase": "behavioral", "duration_seconds": 600, "question_count": 2}],
}


async def graded_session(bus: Any, session_id: str, name: str, texts: list[str]) -> dict[str, str]:
    """A completed session; returns each question's answer text as the report joins it."""
    assert (await call(bus, "template.add", {"template": GRADED})).status is Status.COMPLETED
    start = await call(
        bus,
        "interview.start",
        {"template_id": "it-graded", "candidate": {"name": name}, "session_id": session_id},
    )
    assert start.status is Status.COMPLETED, start.error
    for i in range(8):  # two questions and any follow-ups
        got = await call(
            bus,
            "interview.respond",
            {"session_id": session_id, "text": texts[min(i, len(texts) - 1)]},
        )
        assert got.status is Status.COMPLETED, got.error
        if got.result["completed"]:
            break
    assert got.result["completed"] is True
    view = (await call(bus, "interview.get", {"session_id": session_id})).result
    joined: dict[str, list[str]] = {}
    for entry in view["transcript"]:
        if entry["kind"] == "answer":
            joined.setdefault(entry["question_id"], []).append(entry["text"])
    return {qid: " ".join(parts).strip() for qid, parts in joined.items()}


async def test_report_graded_by_the_llm_worker_and_rendered_by_the_latex_worker(
    workers, module_bus
):
    answers = await graded_session(module_bus, "it-llm", "Barbara Liskov-Núñez", [TYPED])
    report = await call(module_bus, "interview.report", {"session_id": "it-llm"})
    assert report.status is Status.COMPLETED, report.error
    out = report.result
    assert out["evaluator"] == "llm" and out["llm_requested"] is True
    assert [q["question_id"] for q in out["questions"]] == list(answers)
    for q in out["questions"]:  # the fake's deterministic verdict, quote kept as evidence
        text = answers[q["question_id"]]
        assert q["evaluator"] == "llm" and q["score"] == fake_llm.expected_score(
            text, q["question_id"]
        )
        assert q["evidence"][0] == " ".join(text.split()[:5])
        assert q["strengths"] == ["fake-llm strength"]
        assert q["feedback"] == ["fake-llm improvement"]
        assert 0 <= q["rule_score"] <= 100 and "llm_error" not in q
    scores = [q["score"] for q in out["questions"]]
    assert out["phases"][0]["score"] == round(sum(scores) / len(scores)) == out["overall_score"]
    pdf = out["pdf"]
    assert pdf["renderer"] == "latex" and pdf["served_by"] == "latex", pdf
    got = await module_bus.call(
        "latex", "latex.artifact.get", {"artifact_id": pdf["artifact_id"]}, timeout=30
    )
    assert got.status is Status.COMPLETED, got.error
    body = base64.b64decode(got.result["content_base64"])
    assert body.startswith(b"%PDF") and hashlib.sha256(body).hexdigest() == pdf["sha256"]
    text = pdf_text(body)
    assert "Barbara Liskov-Núñez" in text and "evaluator: llm" in text  # T1 fonts


async def test_an_answer_the_llm_worker_does_not_grade_in_time_is_scored_by_rules(
    workers, module_bus
):
    slow = TYPED + " At first I moved like a tortoise."
    answers = await graded_session(module_bus, "it-slow", "Edsger Dijkstra", [slow, TYPED])
    report = await call(
        module_bus, "interview.report", {"session_id": "it-slow", "pdf": False}, timeout=60
    )
    assert report.status is Status.COMPLETED, report.error
    out = report.result
    by_eval = {q["evaluator"]: q for q in out["questions"]}
    assert set(by_eval) == {"llm", "rules"} and out["evaluator"] == "llm+rules"
    rules = by_eval["rules"]  # the first question: its answer holds the fake's slow marker
    assert (
        rules["question_id"] == next(iter(answers)) and "tortoise" in answers[rules["question_id"]]
    )
    assert rules["score"] == rules["rule_score"] and "strengths" not in rules
    problem = rules["llm_error"]  # the bus deadline, or the llm worker's own deadline check
    assert problem.startswith("DependencyUnavailableError: ") and (
        "did not answer assistant.complete" in problem or "DEADLINE_EXCEEDED" in problem
    )
    llm = by_eval["llm"]
    assert llm["score"] == fake_llm.expected_score(answers[llm["question_id"]], llm["question_id"])
    assert report.processing_ms < (LLM_TIMEOUT + 20) * 1000  # one deadline, not one per answer

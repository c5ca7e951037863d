"""Interview sessions with fakes: flow, follow-ups, state machine, timers, idempotency, report."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from agents.interview import handlers as h
from agents.interview.fakes import InProcessSpeechAnalyzer, ScriptedGrader, ScriptedTranscriber
from agents.interview.messages import (
    AddTemplate,
    ImportQuestions,
    ListQuestions,
    MakeReport,
    PhaseTimeout,
    Respond,
    SessionCommand,
    StartInterview,
)
from agents.interview.phase_timer import PhaseTimer
from agents.interview.policy import DEFAULT_POLICY
from agents.interview.renderers import ReportlabReportRenderer
from agents.interview.repository import InterviewRepository
from enginedge_streams.errors import PermanentError
from enginedge_streams.keyed_locks import KeyedLocks
from enginedge_streams.testing.artifact_store import InMemoryArtifactStore
from enginedge_streams.testing.clock import FixedClock
from enginedge_streams.testing.key_value_store import InMemoryKeyValueStore
from enginedge_streams.testing.messaging import RecordingCommandSender, RecordingEventPublisher
from tests.unit.interview.helpers import ctx

pytestmark = pytest.mark.timeout(120)

LLM_POLICY = replace(DEFAULT_POLICY, llm_model="scripted-grader")  # auto then asks the LLM
GOOD = {
    "behavioral": "When I was working at Acme our team disagreed about the database. My task was to "
    "choose one. I decided to gather data and evidence, we listened to each other and reached a "
    "compromise. As a result latency improved by 30% and we shipped on time; I learned to own it.",
}
TEMPLATE = {
    "template_id": "mini",
    "name": "Mini",
    "follow_up_min_words": 10,
    "phases": [
        {"phase": "behavioral", "duration_seconds": 60, "question_count": 1},
        {"phase": "technical", "duration_seconds": 30, "question_count": 2},
    ],
    "rubric": {"behavioral": 0.4, "technical": 0.6},
}


@pytest.fixture(scope="module")
def speech():
    return InProcessSpeechAnalyzer()


@pytest.fixture
def env(speech):
    repo = InterviewRepository(InMemoryKeyValueStore())
    clock = FixedClock(1_800_000_000.0)
    events = RecordingEventPublisher()
    deps = {"repo": repo, "clock": clock, "events": events, "locks": KeyedLocks()}
    return repo, clock, events, deps


async def start(deps: dict[str, Any], template: str = "mini") -> Any:
    if template == "mini" and deps["repo"].template("mini") is None:
        await h.handle_template_add(AddTemplate(template=TEMPLATE), repo=deps["repo"])
    return await h.handle_start(
        StartInterview(template_id=template, candidate={"name": "Ada"}, session_id="s1"),
        **deps,
        ctx=ctx("start-1"),
    )


async def respond(
    deps: dict[str, Any], speech: Any, text: str | None, cid: str, transcriber: Any = None
) -> Any:
    return await h.handle_respond(
        Respond(session_id="s1", text=text)
        if transcriber is None
        else Respond(session_id="s1", audio={"content_base64": "UklGRg==", "format": "wav"}),
        **deps,
        transcriber=transcriber or ScriptedTranscriber(""),
        speech=speech,
        policy=DEFAULT_POLICY,
        ctx=ctx(cid),
    )


def test_seeded_bank_has_at_least_50_real_questions(env):
    repo = env[0]
    qs = repo.questions()
    assert len(qs) >= 50
    assert {q.phase for q in qs} == {"behavioral", "technical", "coding", "system_design"}
    assert all(q.expected_keywords and q.text.endswith(("?", ".")) for q in qs)


async def test_question_import_keeps_valid_items_and_reports_the_rest(env):
    repo = env[0]
    payload = {
        "questions": [
            {
                "question_id": "imp-1",
                "phase": "coding",
                "text": "Reverse a string in place.",
                "expected_keywords": ["two pointers"],
            },
            {"question_id": "bad id!", "phase": "coding", "text": "x"},
            {"question_id": "imp-2", "phase": "unknown", "text": "What is love?"},
        ]
    }
    out = await h.handle_question_import(ImportQuestions(json_text=json.dumps(payload)), repo=repo)
    assert out["imported"] == 1 and [r["index"] for r in out["rejected"]] == [1, 2]
    listed = await h.handle_question_list(ListQuestions(phase="coding", limit=1000), repo=repo)
    assert "imp-1" in [q["question_id"] for q in listed["questions"]]


async def test_full_session_with_follow_up_and_report(env, speech):
    repo, clock, events, deps = env
    first = await start(deps)
    assert first["current"]["phase"] == "behavioral" and first["state"] == "active"
    r1 = await respond(deps, speech, "I fixed it.", "a1")  # short -> follow-up on the same question
    assert (
        r1["next"]["follow_up"] is True
        and r1["next"]["question_id"] == first["current"]["question_id"]
    )
    r2 = await respond(deps, speech, GOOD["behavioral"], "a2")
    assert r2["next"]["phase"] == "technical" and not r2["next"]["follow_up"]
    again = await respond(deps, speech, GOOD["behavioral"], "a2")  # same command id: applied once
    assert again == r2
    session = repo.session("s1")
    assert sum(e.kind == "answer" for e in session.transcript) == 2
    spoken = ScriptedTranscriber(
        "Because a B-tree index makes lookup fast, but every write must update it "
        "and it costs storage space; selectivity matters for example.",
        9.0,
    )
    r3 = await respond(deps, speech, None, "a3", transcriber=spoken)
    assert r3["accepted"]["source"] == "audio" and r3["accepted"]["speech"]["words_per_minute"] > 0
    if r3["next"]["follow_up"]:  # skip the follow-up: the question keeps its answer
        await h.handle_skip(SessionCommand(session_id="s1"), **deps, ctx=ctx("k0"))
    last = await h.handle_skip(SessionCommand(session_id="s1"), **deps, ctx=ctx("k1"))
    assert last["state"] == "completed" and last["end_reason"] == "finished"
    grader = ScriptedGrader(up=False)
    report = await h.handle_report(
        MakeReport(session_id="s1"),
        **deps,
        grader=grader,
        renderer=ReportlabReportRenderer(InMemoryArtifactStore()),
        policy=DEFAULT_POLICY,
        ctx=ctx("r1"),
    )
    assert report["evaluator"] == "rules" and grader.prompts == []
    by_phase = {p["phase"]: p for p in report["phases"]}
    assert set(by_phase) == {"behavioral", "technical"} and by_phase["behavioral"]["score"] >= 60
    beh = next(q for q in report["questions"] if q["phase"] == "behavioral")
    assert beh["criteria"]["structure"]["score"] == 1.0  # full STAR
    assert all(e in GOOD["behavioral"] or e in "I fixed it." for e in beh["evidence"])
    assert any(q["outcome"] == "skipped" for q in report["questions"])
    expected = round(by_phase["behavioral"]["score"] * 0.4 + by_phase["technical"]["score"] * 0.6)
    assert report["overall_score"] == expected
    assert report["pdf"]["renderer"] == "reportlab" and report["pdf"]["size"] > 1000
    assert events.types() == [
        "interview.session_started",
        "interview.session_completed",
        "interview.report_generated",
    ]


async def test_llm_grader_used_when_available_and_rules_when_reply_unusable(env, speech):
    repo, clock, events, deps = env
    await start(deps)
    await respond(deps, speech, GOOD["behavioral"], "a1")
    await h.handle_end(SessionCommand(session_id="s1"), **deps, ctx=ctx("e1"))
    grader = ScriptedGrader(
        lambda p: (
            '{"score": 88, "evidence": "we shipped on time", "strengths": ["clear"], '
            '"improvements": ["more numbers"]}'
            if "disagreed" in p or "Acme" in p
            else "no json"
        )
    )

    async def report_by(
        grader: ScriptedGrader, command_id: str, policy: Any = LLM_POLICY
    ) -> dict[str, Any]:
        return await h.handle_report(
            MakeReport(session_id="s1"),
            **deps,
            grader=grader,
            renderer=ReportlabReportRenderer(InMemoryArtifactStore()),
            policy=policy,
            ctx=ctx(command_id),
        )

    offline = await report_by(grader, "r0", DEFAULT_POLICY)  # auto, no grader model: rules
    assert offline["evaluator"] == "rules" and grader.prompts == []
    report = await report_by(grader, "r1")
    beh = next(q for q in report["questions"] if q["outcome"] == "answered")
    assert (
        beh["evaluator"] == "llm"
        and beh["score"] == 88
        and beh["evidence"][0] == "we shipped on time"
    )
    assert "fallback_reason" not in beh and beh["rule_score"] != 88
    bad = ScriptedGrader('{"score": 95, "evidence": "a quote the candidate never said"}')
    report2 = await report_by(bad, "r2")
    beh2 = next(q for q in report2["questions"] if q["outcome"] == "answered")
    assert beh2["evaluator"] == "rules" and beh2["score"] == beh2["rule_score"]
    assert beh2["fallback_reason"] == "EVIDENCE_NOT_IN_ANSWER" and beh2["llm_score"] == 95
    assert "never said" not in " ".join(beh2["evidence"])
    echo = ScriptedGrader('{"score": 0, "evidence": "100%"}')  # issue 21: replaced a rule 88
    beh3 = next(q for q in (await report_by(echo, "r3"))["questions"] if q["outcome"] == "answered")
    assert beh3["evaluator"] == "rules" and beh3["fallback_reason"] == "EVIDENCE_TOO_SHORT"
    assert report2["evaluator"] == "rules"


@pytest.mark.parametrize("action", ["pause", "skip", "respond"])
async def test_illegal_transitions_are_refused(env, speech, action):
    repo, clock, events, deps = env
    await start(deps)
    await h.handle_end(SessionCommand(session_id="s1"), **deps, ctx=ctx("e1"))
    with pytest.raises(PermanentError) as err:
        if action == "respond":
            await respond(deps, speech, "late answer", "late")
        else:
            await getattr(h, f"handle_{action}")(
                SessionCommand(session_id="s1"), **deps, ctx=ctx("x")
            )
    assert err.value.code == "ILLEGAL_TRANSITION" and "it is completed" in err.value.message
    with pytest.raises(PermanentError) as err2:
        await h.handle_resume(SessionCommand(session_id="s1"), **deps, ctx=ctx("y"))
    assert err2.value.code == "ILLEGAL_TRANSITION"


async def test_report_before_completion_and_resume_while_active_are_refused(env, speech):
    repo, clock, events, deps = env
    await start(deps)
    with pytest.raises(PermanentError) as err:
        await h.handle_resume(SessionCommand(session_id="s1"), **deps, ctx=ctx("y"))
    assert err.value.code == "ILLEGAL_TRANSITION" and err.value.details["allowed_in"] == ["paused"]
    with pytest.raises(PermanentError):
        await h.handle_report(
            MakeReport(session_id="s1"),
            **deps,
            grader=ScriptedGrader(up=False),
            renderer=ReportlabReportRenderer(InMemoryArtifactStore()),
            policy=DEFAULT_POLICY,
            ctx=ctx("r"),
        )


async def test_phase_timer_sends_a_timeout_command_and_the_phase_advances(env, speech):
    repo, clock, events, deps = env
    await start(deps)
    sender = RecordingCommandSender()
    timer = PhaseTimer(repo, sender, clock)
    assert await timer.tick() == 0
    clock.advance(30)
    await h.handle_pause(SessionCommand(session_id="s1"), **deps, ctx=ctx("p1"))
    clock.advance(600)  # paused: the phase clock stands still
    assert await timer.tick() == 0
    await h.handle_resume(SessionCommand(session_id="s1"), **deps, ctx=ctx("r1"))
    clock.advance(29)
    assert await timer.tick() == 0
    clock.advance(2)
    assert await timer.tick() == 1 and await timer.tick() == 0  # sent once
    cid, ctype, payload = sender.commands[0]
    assert ctype == "interview.phase_timeout" and payload["phase_index"] == 0
    out = await h.handle_phase_timeout(PhaseTimeout(**payload), **deps, ctx=ctx(cid))
    assert (
        out["applied"]
        and out["timed_out_phase"] == "behavioral"
        and out["next"]["phase"] == "technical"
    )
    session = repo.session("s1")
    assert session.phases[0].status == "timed_out"
    assert [e.kind for e in session.transcript][-2:] == ["phase_timeout", "question"]
    stale = await h.handle_phase_timeout(PhaseTimeout(**payload), **deps, ctx=ctx("other-id"))
    assert stale["applied"] is False
    clock.advance(31)
    cid2, _, payload2 = (await timer.tick(), sender.commands[-1])[1]
    done = await h.handle_phase_timeout(PhaseTimeout(**payload2), **deps, ctx=ctx(cid2))
    assert done["state"] == "completed" and events.types()[-1] == "interview.session_completed"

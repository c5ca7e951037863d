"""The interview worker over the real Kafka with a real spaCy worker: a full session with typed
answers and one spoken answer (espeak-ng audio -> faster-whisper), the report, phase time limits
enforced by the worker's own timer, illegal transitions, and the events topic."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
from aiokafka import AIOKafkaConsumer

from enginedge_streams.records import Status
from tests.support.speech import have_tts, speak
from tests.support.stack import KAFKA
from tests.support.workers import http_get

pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.skipif(not have_tts(), reason="espeak-ng and sox: scripts/install-system-deps.sh"),
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


@pytest.fixture(scope="module")
def workers(module_worker_factory, tmp_path_factory):
    spacy = module_worker_factory("spacy", start=False)
    interview = module_worker_factory(
        "interview",
        start=False,
        env={
            "INTERVIEW_REPORT_RENDERER": "reportlab",
            "INTERVIEW_EVALUATOR": "rules",
            "INTERVIEW_ARTIFACT_DIR": str(tmp_path_factory.mktemp("artifacts")),
            "INTERVIEW_TIMER_INTERVAL_SECONDS": "0.5",
            "MAX_CONCURRENCY": "4",
        },
    )
    for w in (spacy, interview):
        w.start(wait=False)
    for w in (spacy, interview):
        w.wait_ready(150)
    return {"interview": interview}


async def call(bus, ctype, payload, timeout=120):
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
        report = await call(module_bus, "interview.report", {"session_id": "it-s1"})
        assert report.status is Status.COMPLETED, report.error
        phases = {p["phase"]: p["score"] for p in report.result["phases"]}
        assert set(phases) == {"behavioral", "technical"} and all(
            0 <= s <= 100 for s in phases.values()
        )
        assert any(q["source"] == "audio" for q in report.result["questions"])
        pdf = report.result["pdf"]
        status, body = http_get(f"{workers['interview'].url}{pdf['url']}")
        assert status == 200 and body.startswith(b"%PDF")
        got = await call(module_bus, "interview.get", {"session_id": "it-s1"})
        assert SPOKEN.split()[3] in json.dumps(got.result["transcript"])
        seen = []
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

"""Interview sessions survive a SIGKILL of the worker on the real Kafka: restarted on the same
RocksDB directory, and restarted with that directory deleted (rebuilt from the changelog).

No spaCy, LaTeX or assistant worker runs on this module's topics, so the worker also shows its
fallbacks here: speech analysis reported missing, the rule-based evaluator, the reportlab PDF.
"""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

import pytest

from enginedge_streams.records import Status
from tests.support.pdf_text import pdf_text
from tests.support.workers import http_get

pytestmark = pytest.mark.timeout(240)

TEMPLATE = {
    "template_id": "it-restart",
    "name": "IT restart",
    "follow_up_min_words": 0,
    "phases": [
        {"phase": "behavioral", "duration_seconds": 600, "question_count": 2},
        {"phase": "technical", "duration_seconds": 600, "question_count": 1},
    ],
    "rubric": {"behavioral": 0.5, "technical": 0.5},
}
TIMED = {
    "template_id": "it-restart-timed",
    "name": "IT restart timed",
    "phases": [
        {"phase": "behavioral", "duration_seconds": 3, "question_count": 1},
        {"phase": "technical", "duration_seconds": 600, "question_count": 1},
    ],
}
ANSWERS = [
    "When I was at Acme our team disagreed about the database; my task was to choose one, "
    "so I gathered evidence, we listened and as a result latency improved by 30%.",
    "I owned a failed release: I apologised, wrote a postmortem, added tests and as a "
    "result we shipped the fix the next day and I learned to automate rollbacks.",
    "I would measure first, then add an index or a cache, and keep the trade-offs in mind.",
]
ENV = {
    "INTERVIEW_EVALUATOR": "auto",  # no llm worker here: rules
    "INTERVIEW_REPORT_RENDERER": "auto",  # no latex worker here: reportlab
    "INTERVIEW_BUS_TIMEOUT_SECONDS": "1",  # no spaCy worker here: analysis reported missing
    "INTERVIEW_FOLLOW_UP_MIN_COVERAGE": "0",  # no follow-ups: a fixed sequence of questions
    "BROKER_SESSION_TIMEOUT": "6",  # the killed member leaves the group quickly
    "BROKER_HEARTBEAT_INTERVAL": "1",
    "BROKER_COMMIT_INTERVAL": "1.0",
    "MAX_CONCURRENCY": "2",
}


@pytest.fixture(scope="module")
def worker(module_worker_factory):
    return module_worker_factory("interview", env=ENV)  # PDFs: the per-test artifact store


async def call(bus: Any, ctype: str, payload: dict[str, Any], timeout: float = 60) -> Any:
    return await bus.call("interview", ctype, payload, timeout=timeout)


async def ok(bus: Any, ctype: str, payload: dict[str, Any]) -> Any:
    result = await call(bus, ctype, payload)
    assert result.status is Status.COMPLETED, (ctype, result.error)
    return result.result


async def started(bus: Any, session_id: str, name: str) -> Any:
    got = await call(bus, "template.add", {"template": TEMPLATE})
    assert got.status is Status.COMPLETED, got.error
    return await ok(
        bus,
        "interview.start",
        {"template_id": "it-restart", "candidate": {"name": name}, "session_id": session_id},
    )


def answers(view: dict[str, Any]) -> list[str]:
    return [e["text"] for e in view["transcript"] if e["kind"] == "answer"]


async def test_sigkill_then_restart_on_the_same_rocksdb_continues_the_session(worker, module_bus):
    q1 = (await started(module_bus, "rs-1", "Ada Lovelace"))["current"]
    assert q1["phase"] == "behavioral"
    first = await module_bus.call(
        "interview", "interview.respond", {"session_id": "rs-1", "text": ANSWERS[0]}, timeout=60
    )
    assert first.status is Status.COMPLETED, first.error
    assert first.result["accepted"]["speech"]["error"] == "DEPENDENCY_UNAVAILABLE"
    q2 = first.result["next"]
    assert q2["phase"] == "behavioral" and q2["question_id"] != q1["question_id"]
    assert (await ok(module_bus, "interview.pause", {"session_id": "rs-1"}))["state"] == "paused"

    worker.kill()  # SIGKILL: no shutdown, no flush beyond what Kafka already has
    worker.start()

    view = await ok(module_bus, "interview.get", {"session_id": "rs-1"})
    assert view["state"] == "paused" and answers(view) == [ANSWERS[0]]
    assert view["current"]["question_id"] == q2["question_id"]
    refused = await call(module_bus, "interview.respond", {"session_id": "rs-1", "text": "x"})
    assert refused.status is Status.FAILED and refused.error.code == "ILLEGAL_TRANSITION"
    assert (await ok(module_bus, "interview.resume", {"session_id": "rs-1"}))["state"] == "active"
    second = await ok(
        module_bus,
        "interview.respond",
        {"session_id": "rs-1", "text": ANSWERS[1], "question_id": q2["question_id"]},
    )
    assert second["next"]["phase"] == "technical" and second["completed"] is False
    # The answer sent before the kill, sent again with its command id: not appended twice.
    replay = await module_bus.call_command(
        "interview",
        module_bus.command(
            "interview.respond",
            {"session_id": "rs-1", "text": ANSWERS[0]},
            command_id=first.command_id,
        ),
        timeout=60,
    )
    assert replay.status is Status.COMPLETED and replay.result == first.result
    ended = await ok(module_bus, "interview.end", {"session_id": "rs-1"})
    assert ended["state"] == "completed"
    view = await ok(module_bus, "interview.get", {"session_id": "rs-1"})
    assert answers(view) == ANSWERS[:2]
    kinds = [e["kind"] for e in view["transcript"]]
    assert kinds == [
        "question", "answer", "question", "pause", "resume", "answer", "question", "end"
    ]  # fmt: skip
    assert [p["status"] for p in view["phases"]] == ["done", "ended"]

    report = await ok(module_bus, "interview.report", {"session_id": "rs-1"})
    outcomes = [q["outcome"] for q in report["questions"]]
    assert outcomes == ["answered", "answered", "unanswered"]
    assert report["evaluator"] == "rules" and report["llm_requested"] is False
    pdf = report["pdf"]  # the fallback: no LaTeX worker answers on these topics
    assert pdf["renderer"] == "reportlab" and pdf["served_by"] == "interview"
    status, body = http_get(f"{worker.url}{pdf['url']}")
    assert status == 200 and body.startswith(b"%PDF")
    text = pdf_text(body)
    assert "Ada Lovelace" in text and "IT restart" in text


async def test_sigkill_then_restart_with_the_rocksdb_directory_deleted(worker, module_bus):
    await started(module_bus, "rs-2", "Grace Hopper")
    await ok(module_bus, "interview.respond", {"session_id": "rs-2", "text": ANSWERS[0]})
    # A session whose phase clock runs out while the worker is down.
    await ok(module_bus, "template.add", {"template": TIMED})
    await ok(
        module_bus,
        "interview.start",
        {"template_id": "it-restart-timed", "candidate": {"name": "Alan"}, "session_id": "rs-3"},
    )
    # The second answer is in flight at the kill (received or not; if received, the worker is
    # waiting on the absent spaCy worker): after the restart it is run once, and answered.
    in_flight = asyncio.create_task(
        module_bus.call(
            "interview",
            "interview.respond",
            {"session_id": "rs-2", "text": ANSWERS[1]},
            timeout=120,
        )
    )
    await asyncio.sleep(0.4)

    worker.kill()
    shutil.rmtree(worker.data_dir)
    worker.start()
    assert worker.data_dir.exists()

    second = await in_flight
    assert second.status is Status.COMPLETED, second.error
    assert second.result["next"]["phase"] == "technical"
    view = await ok(module_bus, "interview.get", {"session_id": "rs-2"})
    assert answers(view) == ANSWERS[:2]  # each once
    assert [e["kind"] for e in view["transcript"]] == ["question", "answer"] * 2 + ["question"]
    assert view["state"] == "active" and view["current"] == second.result["next"]
    templates = await ok(module_bus, "template.list", {})
    assert "it-restart" in {t["template_id"] for t in templates["templates"]}
    last = await ok(module_bus, "interview.respond", {"session_id": "rs-2", "text": ANSWERS[2]})
    assert last["completed"] is True and last["state"] == "completed"
    late = await call(module_bus, "interview.respond", {"session_id": "rs-2", "text": "again"})
    assert late.status is Status.FAILED and late.error.code == "ILLEGAL_TRANSITION"
    # The phase timer found the running clock again (rebuilt from the changelog) and moved on.
    for _ in range(60):
        timed = await ok(module_bus, "interview.get", {"session_id": "rs-3"})
        if timed["phases"][0]["status"] != "active":
            break
        await asyncio.sleep(0.5)
    assert timed["phases"][0]["status"] == "timed_out" and timed["state"] == "active"
    assert timed["current"]["phase"] == "technical"
    report = await ok(module_bus, "interview.report", {"session_id": "rs-2", "pdf": False})
    assert [q["outcome"] for q in report["questions"]] == ["answered"] * 3
    assert [p["status"] for p in report["phases"]] == ["done", "done"]
    assert report["end_reason"] == "finished" and "pdf" not in report

"""The report handler: scores per phase and overall, with the PDF rendered by a renderer."""

from __future__ import annotations

import hashlib
from typing import Any

from agents.interview import report as reports
from agents.interview import sessions as sm
from agents.interview.messages import MakeReport
from agents.interview.policy import InterviewPolicy
from agents.interview.ports import AnswerGrader, ReportRenderer
from agents.interview.repository import InterviewRepository
from agents.interview.session_io import load, publish, remember, session_questions
from enginedge_streams.handlers import CommandContext
from enginedge_streams.keyed_locks import KeyedLocks
from enginedge_streams.ports.clock import Clock
from enginedge_streams.ports.event_publisher import EventPublisher


async def handle_report(
    cmd: MakeReport,
    *,
    repo: InterviewRepository,
    clock: Clock,
    events: EventPublisher,
    locks: KeyedLocks,
    grader: AnswerGrader,
    renderer: ReportRenderer,
    policy: InterviewPolicy,
    ctx: CommandContext,
) -> dict[str, Any]:
    async with locks(cmd.session_id):
        session = load(repo, cmd.session_id)
        if ctx.command_id in session.applied and session.report is not None:
            return dict(session.report)
        sm.require(session, "report")
        evaluator = cmd.evaluator or policy.evaluator
        built = await reports.build(
            session,
            session_questions(repo, session),
            grader=grader,
            policy=reports.ReportPolicy(
                policy.rule_weights, evaluator, policy.max_deviation, policy.llm_model
            ),
            evaluator=evaluator,
        )
        if cmd.pdf:
            artifact_id = "report-" + hashlib.sha256(ctx.command_id.encode()).hexdigest()[:32]
            built["pdf"] = await renderer.render(built, artifact_id=artifact_id)
        now = clock.timestamp()
        session.report = built
        remember(session, ctx.command_id, {"report": True})
        repo.put_session(session)
    pdf = built.get("pdf") or {}
    await publish(
        events,
        "interview.report_generated",
        session,
        ctx,
        now,
        overall_score=built["overall_score"],
        artifact_id=pdf.get("artifact_id"),
    )
    return built

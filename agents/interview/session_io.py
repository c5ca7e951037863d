"""What the session handlers share: load a session, remember a command's result, publish."""

from __future__ import annotations

from typing import Any

from agents.interview.model import Question, Session
from agents.interview.repository import InterviewRepository
from enginedge_streams.errors import NotFoundError, PermanentError
from enginedge_streams.handlers import CommandContext
from enginedge_streams.ports.event_publisher import EventPublisher

EVENTS_SCHEMA = 1
MAX_APPLIED = 500


def session_questions(repo: InterviewRepository, session: Session) -> dict[str, Question]:
    out = {}
    for plan in session.phases:
        for qid in plan.question_ids:
            q = repo.question(qid)
            if q is None:
                raise PermanentError(f"question {qid} is no longer in the bank", code="NOT_FOUND")
            out[qid] = q
    return out


def load(repo: InterviewRepository, session_id: str) -> Session:
    session = repo.session(session_id)
    if session is None:
        raise NotFoundError(f"no interview session {session_id!r}")
    return session


def remember(session: Session, command_id: str, result: dict[str, Any]) -> dict[str, Any]:
    session.applied[command_id] = result
    if len(session.applied) > MAX_APPLIED:
        session.applied = dict(list(session.applied.items())[-MAX_APPLIED:])
    return result


async def publish(
    events: EventPublisher,
    kind: str,
    session: Session,
    ctx: CommandContext,
    now: float,
    **extra: Any,
) -> None:
    await events.publish(
        session.session_id,
        {
            "schema_version": EVENTS_SCHEMA,
            "event_id": f"{ctx.command_id}:{kind}",
            "type": kind,
            "session_id": session.session_id,
            "template_id": session.template_id,
            "candidate": session.candidate.model_dump(),
            "at": now,
            **extra,
        },
    )

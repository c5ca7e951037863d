"""The session state machine: which command is legal in which state, and what it changes.

States: ``active`` -> ``paused`` -> ``active`` ... -> ``completed``. Each
transition is a pure function of the session and the time; an illegal one
raises ``IllegalTransition`` (FAILED ``ILLEGAL_TRANSITION``, naming the state
and what is allowed from it).
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from agents.interview.model import Entry, PhasePlan, Question, Session, Template
from enginedge_streams.errors import PermanentError

ALLOWED: dict[str, set[str]] = {
    "respond": {"active"},
    "skip": {"active"},
    "pause": {"active"},
    "resume": {"paused"},
    "end": {"active", "paused"},
    "report": {"completed"},
    "phase_timeout": {"active"},
}


class IllegalTransitionError(PermanentError):
    code = "ILLEGAL_TRANSITION"


def require(session: Session, action: str) -> None:
    allowed = ALLOWED[action]
    if session.state not in allowed:
        raise IllegalTransitionError(
            f"cannot {action.replace('_', ' ')} session {session.session_id}: it is "
            f"{session.state} ({action} is allowed only when {' or '.join(sorted(allowed))})",
            details={"state": session.state, "action": action, "allowed_in": sorted(allowed)},
        )


def pick_questions(template: Template, bank: list[Question], seed: int) -> list[PhasePlan]:
    rnd = random.Random(seed)  # noqa: S311 - question choice, not security
    plans = []
    used: set[str] = set()
    for spec in template.phases:
        pool = [q for q in bank if q.phase == spec.phase and q.question_id not in used]
        if spec.difficulty:
            pool = [q for q in pool if q.difficulty == spec.difficulty] or pool
        if spec.tags:
            tagged = [q for q in pool if set(q.tags) & set(spec.tags)]
            pool = tagged or pool
        pool.sort(key=lambda q: q.question_id)
        if len(pool) < spec.question_count:
            raise PermanentError(
                f"the bank has {len(pool)} {spec.phase} questions for this template, "
                f"it needs {spec.question_count}",
                code="NOT_ENOUGH_QUESTIONS",
            )
        chosen = rnd.sample(pool, spec.question_count)
        used.update(q.question_id for q in chosen)
        plans.append(
            PhasePlan(
                phase=spec.phase,
                duration_seconds=spec.duration_seconds,
                question_ids=[q.question_id for q in chosen],
            )
        )
    return plans


def seed_of(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def start_phase(session: Session, now: float) -> None:
    plan = session.phases[session.phase_index]
    plan.status = "active"
    plan.started_at = now
    plan.deadline = now + plan.duration_seconds
    session.question_index = 0
    session.follow_up_pending = False
    session.epoch += 1


def ask(session: Session, question: Question, now: float, *, follow_up: str | None = None) -> Entry:
    entry = Entry(
        kind="follow_up" if follow_up else "question",
        at=now,
        phase=question.phase,
        question_id=question.question_id,
        text=follow_up or question.text,
        follow_up=follow_up is not None,
    )
    session.transcript.append(entry)
    return entry


def advance(session: Session, now: float, questions: dict[str, Question]) -> Entry | None:
    """Move to the next question (or phase); None when the interview is over."""
    session.follow_up_pending = False
    plan = session.current_plan()
    if plan is not None and session.question_index + 1 < len(plan.question_ids):
        session.question_index += 1
        return ask(session, questions[plan.question_ids[session.question_index]], now)
    if plan is not None and plan.status == "active":
        plan.status = "done"
        plan.ended_at = now
    return next_phase(session, now, questions)


def next_phase(session: Session, now: float, questions: dict[str, Question]) -> Entry | None:
    session.phase_index += 1
    if session.phase_index >= len(session.phases):
        complete(session, now, "finished")
        return None
    start_phase(session, now)
    plan = session.phases[session.phase_index]
    return ask(session, questions[plan.question_ids[0]], now)


def complete(session: Session, now: float, reason: str) -> None:
    session.state = "completed"
    session.completed_at = now
    session.end_reason = reason
    session.follow_up_pending = False
    for plan in session.phases:
        if plan.status in {"active", "pending"}:
            plan.status = "ended"
            plan.ended_at = plan.ended_at or now
        plan.deadline = plan.deadline if plan.status != "ended" else None


def pause(session: Session, now: float) -> None:
    require(session, "pause")
    plan = session.current_plan()
    if plan is not None and plan.deadline is not None:
        plan.remaining_seconds = max(0.0, plan.deadline - now)
        plan.deadline = None
    session.state = "paused"
    session.paused_at = now
    session.transcript.append(Entry(kind="pause", at=now, phase=plan.phase if plan else None))


def resume(session: Session, now: float) -> None:
    require(session, "resume")
    plan = session.current_plan()
    if plan is not None and plan.remaining_seconds is not None:
        plan.deadline = now + plan.remaining_seconds
        plan.remaining_seconds = None
    session.state = "active"
    session.paused_at = None
    session.epoch += 1
    session.transcript.append(Entry(kind="resume", at=now, phase=plan.phase if plan else None))


def current_prompt(session: Session) -> dict[str, Any] | None:
    if session.state == "completed":
        return None
    for entry in reversed(session.transcript):
        if entry.kind in {"question", "follow_up"}:
            plan = session.current_plan()
            return {
                "question_id": entry.question_id,
                "phase": entry.phase,
                "text": entry.text,
                "follow_up": entry.follow_up,
                "phase_deadline": plan.deadline if plan else None,
                "phase_remaining_seconds": plan.remaining_seconds if plan else None,
            }
    return None


def view(session: Session, *, transcript: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "session_id": session.session_id,
        "template_id": session.template_id,
        "candidate": session.candidate.model_dump(),
        "state": session.state,
        "phase_index": session.phase_index,
        "phases": [p.model_dump() for p in session.phases],
        "current": current_prompt(session),
        "end_reason": session.end_reason,
        "answers": sum(1 for e in session.transcript if e.kind == "answer"),
    }
    if transcript:
        out["transcript"] = [e.model_dump(exclude_none=True) for e in session.transcript]
    return out

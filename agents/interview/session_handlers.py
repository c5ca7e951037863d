"""Session handlers: start, respond, pause/resume/skip/end, get, phase timeout.

Commands about one session run one at a time in this process (``KeyedLocks``);
each remembers its result in the session so a redelivered command answers the same.
"""

from __future__ import annotations

import hashlib
from typing import Any

from agents.interview import sessions as sm
from agents.interview.messages import PhaseTimeout, Respond, SessionCommand, StartInterview
from agents.interview.model import Entry, Session
from agents.interview.policy import InterviewPolicy
from agents.interview.ports import SpeechAnalyzer, Transcriber
from agents.interview.repository import InterviewRepository
from agents.interview.scoring import concept_hits
from agents.interview.session_io import load, publish, remember, session_questions
from enginedge_streams.errors import EnginEdgeError, NotFoundError, PermanentError
from enginedge_streams.handlers import CommandContext
from enginedge_streams.keyed_locks import KeyedLocks
from enginedge_streams.ports.clock import Clock
from enginedge_streams.ports.event_publisher import EventPublisher

ASSUMED_WPM = 150.0  # speaking rate used to estimate the duration of a typed answer


async def handle_start(
    cmd: StartInterview,
    *,
    repo: InterviewRepository,
    clock: Clock,
    events: EventPublisher,
    locks: KeyedLocks,
    ctx: CommandContext,
) -> dict[str, Any]:
    template = repo.template(cmd.template_id)
    if template is None:
        raise NotFoundError(f"no interview template {cmd.template_id!r}")
    session_id = cmd.session_id or "iv-" + hashlib.sha256(ctx.command_id.encode()).hexdigest()[:20]
    async with locks(session_id):
        existing = repo.session(session_id)
        if existing is not None:
            if ctx.command_id in existing.applied:
                return dict(existing.applied[ctx.command_id])
            raise PermanentError(f"session {session_id} already exists", code="SESSION_EXISTS")
        now = clock.timestamp()
        seed = cmd.seed if cmd.seed is not None else sm.seed_of(session_id)
        plans = sm.pick_questions(template, repo.questions(), seed)
        session = Session(
            session_id=session_id,
            template_id=template.template_id,
            template=template,
            candidate=cmd.candidate,
            phases=plans,
            created_at=now,
            updated_at=now,
        )
        sm.start_phase(session, now)
        questions = session_questions(repo, session)
        sm.ask(session, questions[plans[0].question_ids[0]], now)
        result = remember(session, ctx.command_id, {**sm.view(session), "started": True})
        repo.put_session(session)
    await publish(
        events, "interview.session_started", session, ctx, now, phases=[p.phase for p in plans]
    )
    return result


async def _speech(speech: SpeechAnalyzer, text: str, duration: float) -> dict[str, Any] | None:
    try:
        return await speech.analyze(text, duration)
    except EnginEdgeError as exc:  # the answer is kept; the analysis is reported missing
        return {"error": exc.code, "message": exc.message}


async def handle_respond(
    cmd: Respond,
    *,
    repo: InterviewRepository,
    clock: Clock,
    events: EventPublisher,
    locks: KeyedLocks,
    transcriber: Transcriber,
    speech: SpeechAnalyzer,
    policy: InterviewPolicy,
    ctx: CommandContext,
) -> dict[str, Any]:
    async with locks(cmd.session_id):
        session = load(repo, cmd.session_id)
        if ctx.command_id in session.applied:
            return dict(session.applied[ctx.command_id])
        sm.require(session, "respond")
        current = sm.current_prompt(session)
        assert current is not None
        if cmd.question_id is not None and cmd.question_id != current["question_id"]:
            raise PermanentError(
                f"question {cmd.question_id} is not the current one ({current['question_id']})",
                code="STALE_QUESTION",
                details={"current": current},
            )
        audio_info = None
        if cmd.audio is not None:
            heard = await transcriber.transcribe(cmd.audio.content(), audio_format=cmd.audio.format)
            if not heard.text.strip():
                raise PermanentError("no speech recognised in the audio", code="NO_SPEECH")
            text, duration = heard.text, heard.duration_seconds
            audio_info = {
                "duration_seconds": duration,
                "model": heard.model,
                "provider": transcriber.name,
                "language": heard.language,
                "segments": heard.segments,
            }
        else:
            assert cmd.text is not None
            text = cmd.text
            duration = max(1.0, len(text.split()) / ASSUMED_WPM * 60)
        analysis = await _speech(speech, text, duration)
        if analysis is not None and cmd.audio is None:
            analysis["duration_estimated"] = True
        now = clock.timestamp()
        questions = session_questions(repo, session)
        qid = current["question_id"]
        entry = Entry(
            kind="answer",
            at=now,
            phase=current["phase"],
            question_id=qid,
            text=text,
            command_id=ctx.command_id,
            source="audio" if cmd.audio else "text",
            audio=audio_info,
            speech=analysis,
            follow_up=current["follow_up"],
        )
        session.transcript.append(entry)
        question = questions[qid]
        found, _ = concept_hits(question, text)
        coverage = len(found) / len(question.expected_keywords) if question.expected_keywords else 1
        short = len(text.split()) < session.template.follow_up_min_words
        if (
            not current["follow_up"]
            and question.follow_ups
            and (short or coverage < policy.follow_up_min_coverage)
        ):
            session.follow_up_pending = True
            sm.ask(session, question, now, follow_up=question.follow_ups[0])
        else:
            sm.advance(session, now, questions)
        session.updated_at = now
        result = remember(
            session,
            ctx.command_id,
            {
                "session_id": session.session_id,
                "state": session.state,
                "accepted": entry.model_dump(exclude_none=True),
                "next": sm.current_prompt(session),
                "completed": session.state == "completed",
            },
        )
        repo.put_session(session)
    if session.state == "completed":
        await publish(
            events, "interview.session_completed", session, ctx, now, end_reason=session.end_reason
        )
    return result


async def _simple(
    action: str,
    cmd: SessionCommand,
    *,
    repo: InterviewRepository,
    clock: Clock,
    events: EventPublisher,
    locks: KeyedLocks,
    ctx: CommandContext,
) -> dict[str, Any]:
    async with locks(cmd.session_id):
        session = load(repo, cmd.session_id)
        if ctx.command_id in session.applied:
            return dict(session.applied[ctx.command_id])
        now = clock.timestamp()
        if action == "pause":
            sm.pause(session, now)
        elif action == "resume":
            sm.resume(session, now)
        elif action == "skip":
            sm.require(session, "skip")
            current = sm.current_prompt(session)
            assert current is not None
            session.transcript.append(
                Entry(
                    kind="skip",
                    at=now,
                    phase=current["phase"],
                    question_id=current["question_id"],
                    command_id=ctx.command_id,
                )
            )
            sm.advance(session, now, session_questions(repo, session))
        elif action == "end":
            sm.require(session, "end")
            session.transcript.append(Entry(kind="end", at=now, command_id=ctx.command_id))
            sm.complete(session, now, "ended")
        session.updated_at = now
        result = remember(session, ctx.command_id, sm.view(session))
        repo.put_session(session)
    if session.state == "completed" and action in {"skip", "end"}:
        await publish(
            events, "interview.session_completed", session, ctx, now, end_reason=session.end_reason
        )
    return result


def _session_action(action: str) -> Any:
    """The handler of ``interview.<action>`` (pause, resume, skip, end)."""

    async def handler(
        cmd: SessionCommand,
        *,
        repo: InterviewRepository,
        clock: Clock,
        events: EventPublisher,
        locks: KeyedLocks,
        ctx: CommandContext,
    ) -> dict[str, Any]:
        return await _simple(
            action, cmd, repo=repo, clock=clock, events=events, locks=locks, ctx=ctx
        )

    handler.__name__ = handler.__qualname__ = f"handle_{action}"
    return handler


handle_pause = _session_action("pause")
handle_resume = _session_action("resume")
handle_skip = _session_action("skip")
handle_end = _session_action("end")


async def handle_get(cmd: SessionCommand, *, repo: InterviewRepository) -> dict[str, Any]:
    session = load(repo, cmd.session_id)
    return {**sm.view(session, transcript=True), "report": session.report}


async def handle_phase_timeout(
    cmd: PhaseTimeout,
    *,
    repo: InterviewRepository,
    clock: Clock,
    events: EventPublisher,
    locks: KeyedLocks,
    ctx: CommandContext,
) -> dict[str, Any]:
    async with locks(cmd.session_id):
        session = load(repo, cmd.session_id)
        if ctx.command_id in session.applied:
            return dict(session.applied[ctx.command_id])
        now = clock.timestamp()
        plan = session.current_plan()
        stale = None
        if session.state != "active":
            stale = f"session is {session.state}"
        elif cmd.phase_index != session.phase_index or cmd.epoch != session.epoch:
            stale = "the phase clock changed since the timer fired"
        elif plan is None or plan.deadline is None or plan.deadline > now + 0.5:
            stale = "the phase has time left"
        if stale is not None:
            return {"session_id": session.session_id, "applied": False, "reason": stale}
        assert plan is not None
        answered = {e.question_id for e in session.transcript if e.kind in {"answer", "skip"}}
        open_ids = [q for q in plan.question_ids[session.question_index :] if q not in answered]
        session.transcript.append(
            Entry(
                kind="phase_timeout",
                at=now,
                phase=plan.phase,
                text=",".join(open_ids),
                command_id=ctx.command_id,
            )
        )
        plan.status = "timed_out"
        plan.ended_at = now
        sm.next_phase(session, now, session_questions(repo, session))
        session.updated_at = now
        result = remember(
            session,
            ctx.command_id,
            {
                "session_id": session.session_id,
                "applied": True,
                "timed_out_phase": plan.phase,
                "unanswered": open_ids,
                "next": sm.current_prompt(session),
                "state": session.state,
            },
        )
        repo.put_session(session)
    if session.state == "completed":
        await publish(
            events, "interview.session_completed", session, ctx, now, end_reason=session.end_reason
        )
    return result

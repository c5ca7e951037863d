"""Interview worker handlers: plain async functions over the repository and the ports."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from agents.interview import report as reports
from agents.interview import sessions as sm
from agents.interview.messages import (
    AddQuestion,
    AddTemplate,
    ImportQuestions,
    ListQuestions,
    ListTemplates,
    MakeReport,
    PhaseTimeout,
    Respond,
    SessionCommand,
    StartInterview,
)
from agents.interview.model import Entry, Question, Session
from agents.interview.ports import (
    AnswerGrader,
    Clock,
    EventPublisher,
    ReportRenderer,
    SpeechAnalyzer,
    Transcriber,
)
from agents.interview.repository import InterviewRepository
from agents.interview.scoring import DEFAULT_RULE_WEIGHTS, concept_hits
from enginedge_streams.errors import (
    EnginEdgeError,
    NotFoundError,
    PermanentError,
    ValidationError,
)
from enginedge_streams.handlers import CommandContext, CommandSpec

EVENTS_SCHEMA = 1
MAX_APPLIED = 500
ASSUMED_WPM = 150.0  # speaking rate used to estimate the duration of a typed answer


@dataclass(frozen=True)
class InterviewPolicy:
    rule_weights: dict[str, float]
    evaluator: str = "auto"
    follow_up_min_coverage: float = 0.3


DEFAULT_POLICY = InterviewPolicy(dict(DEFAULT_RULE_WEIGHTS))


class KeyedLocks:
    """One asyncio lock per session: commands about one session run one at a time."""

    def __init__(self) -> None:
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def __call__(self, key: str) -> asyncio.Lock:
        return self._locks[key]


def _questions(repo: InterviewRepository, session: Session) -> dict[str, Question]:
    out = {}
    for plan in session.phases:
        for qid in plan.question_ids:
            q = repo.question(qid)
            if q is None:
                raise PermanentError(f"question {qid} is no longer in the bank", code="NOT_FOUND")
            out[qid] = q
    return out


def _load(repo: InterviewRepository, session_id: str) -> Session:
    session = repo.session(session_id)
    if session is None:
        raise NotFoundError(f"no interview session {session_id!r}")
    return session


def _remember(session: Session, command_id: str, result: dict[str, Any]) -> dict[str, Any]:
    session.applied[command_id] = result
    if len(session.applied) > MAX_APPLIED:
        session.applied = dict(list(session.applied.items())[-MAX_APPLIED:])
    return result


async def _event(
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


# -- question bank and templates ---------------------------------------------------------------


async def handle_question_add(cmd: AddQuestion, *, repo: InterviewRepository) -> dict[str, Any]:
    question = cmd.question.model_copy(update={"source": "added"})
    replaced = repo.question(question.question_id) is not None
    repo.put_question(question)
    return {"question": question.model_dump(), "replaced": replaced}


async def handle_question_list(cmd: ListQuestions, *, repo: InterviewRepository) -> dict[str, Any]:
    items = [
        q
        for q in repo.questions()
        if (cmd.phase is None or q.phase == cmd.phase)
        and (cmd.difficulty is None or q.difficulty == cmd.difficulty)
        and (not cmd.tags or set(cmd.tags) & set(q.tags))
    ]
    return {"total": len(items), "questions": [q.model_dump() for q in items[: cmd.limit]]}


async def handle_question_import(
    cmd: ImportQuestions, *, repo: InterviewRepository
) -> dict[str, Any]:
    raw: Any = cmd.questions
    if cmd.json_text is not None:
        try:
            raw = json.loads(cmd.json_text)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"json_text is not JSON: {exc}") from None
        if isinstance(raw, dict):
            raw = raw.get("questions")
        if not isinstance(raw, list):
            raise ValidationError('json_text must hold a list or {"questions": [...]}')
        if len(raw) > 1000:
            raise ValidationError("at most 1000 questions per import")
    imported, rejected = [], []
    for i, item in enumerate(raw):
        try:
            q = Question.model_validate(
                {**item, "source": "added"} if isinstance(item, dict) else item
            )
        except PydanticValidationError as exc:
            rejected.append(
                {
                    "index": i,
                    "errors": [
                        f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
                    ],
                }
            )
            continue
        repo.put_question(q)
        imported.append(q.question_id)
    return {"imported": len(imported), "question_ids": imported, "rejected": rejected}


async def handle_template_add(cmd: AddTemplate, *, repo: InterviewRepository) -> dict[str, Any]:
    template = cmd.template.model_copy(update={"source": "added"})
    bank = repo.questions()
    sm.pick_questions(template, bank, seed=0)  # refuse a template the bank cannot fill
    repo.put_template(template)
    return {"template": template.model_dump()}


async def handle_template_list(cmd: ListTemplates, *, repo: InterviewRepository) -> dict[str, Any]:
    return {"templates": [t.model_dump() for t in repo.templates()]}


# -- sessions -----------------------------------------------------------------------------------


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
        now = clock.now()
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
        questions = _questions(repo, session)
        sm.ask(session, questions[plans[0].question_ids[0]], now)
        result = _remember(session, ctx.command_id, {**sm.view(session), "started": True})
        repo.put_session(session)
    await _event(
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
        session = _load(repo, cmd.session_id)
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
        now = clock.now()
        questions = _questions(repo, session)
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
        result = _remember(
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
        await _event(
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
        session = _load(repo, cmd.session_id)
        if ctx.command_id in session.applied:
            return dict(session.applied[ctx.command_id])
        now = clock.now()
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
            sm.advance(session, now, _questions(repo, session))
        elif action == "end":
            sm.require(session, "end")
            session.transcript.append(Entry(kind="end", at=now, command_id=ctx.command_id))
            sm.complete(session, now, "ended")
        session.updated_at = now
        result = _remember(session, ctx.command_id, sm.view(session))
        repo.put_session(session)
    if session.state == "completed" and action in {"skip", "end"}:
        await _event(
            events, "interview.session_completed", session, ctx, now, end_reason=session.end_reason
        )
    return result


async def handle_pause(
    cmd: SessionCommand,
    *,
    repo: InterviewRepository,
    clock: Clock,
    events: EventPublisher,
    locks: KeyedLocks,
    ctx: CommandContext,
) -> dict[str, Any]:
    return await _simple("pause", cmd, repo=repo, clock=clock, events=events, locks=locks, ctx=ctx)


async def handle_resume(
    cmd: SessionCommand,
    *,
    repo: InterviewRepository,
    clock: Clock,
    events: EventPublisher,
    locks: KeyedLocks,
    ctx: CommandContext,
) -> dict[str, Any]:
    return await _simple("resume", cmd, repo=repo, clock=clock, events=events, locks=locks, ctx=ctx)


async def handle_skip(
    cmd: SessionCommand,
    *,
    repo: InterviewRepository,
    clock: Clock,
    events: EventPublisher,
    locks: KeyedLocks,
    ctx: CommandContext,
) -> dict[str, Any]:
    return await _simple("skip", cmd, repo=repo, clock=clock, events=events, locks=locks, ctx=ctx)


async def handle_end(
    cmd: SessionCommand,
    *,
    repo: InterviewRepository,
    clock: Clock,
    events: EventPublisher,
    locks: KeyedLocks,
    ctx: CommandContext,
) -> dict[str, Any]:
    return await _simple("end", cmd, repo=repo, clock=clock, events=events, locks=locks, ctx=ctx)


async def handle_get(cmd: SessionCommand, *, repo: InterviewRepository) -> dict[str, Any]:
    session = _load(repo, cmd.session_id)
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
        session = _load(repo, cmd.session_id)
        if ctx.command_id in session.applied:
            return dict(session.applied[ctx.command_id])
        now = clock.now()
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
        sm.next_phase(session, now, _questions(repo, session))
        session.updated_at = now
        result = _remember(
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
        await _event(
            events, "interview.session_completed", session, ctx, now, end_reason=session.end_reason
        )
    return result


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
        session = _load(repo, cmd.session_id)
        if ctx.command_id in session.applied and session.report is not None:
            return dict(session.report)
        sm.require(session, "report")
        evaluator = cmd.evaluator or policy.evaluator
        built = await reports.build(
            session,
            _questions(repo, session),
            grader=grader,
            policy=reports.ReportPolicy(policy.rule_weights, evaluator),
            evaluator=evaluator,
        )
        if cmd.pdf:
            artifact_id = "report-" + hashlib.sha256(ctx.command_id.encode()).hexdigest()[:32]
            built["pdf"] = await renderer.render(built, artifact_id=artifact_id)
        now = clock.now()
        session.report = built
        _remember(session, ctx.command_id, {"report": True})
        repo.put_session(session)
    pdf = built.get("pdf") or {}
    await _event(
        events,
        "interview.report_generated",
        session,
        ctx,
        now,
        overall_score=built["overall_score"],
        artifact_id=pdf.get("artifact_id"),
    )
    return built


COMMANDS = [
    CommandSpec("question.add", AddQuestion, handle_question_add, "Add or replace a question."),
    CommandSpec(
        "question.list",
        ListQuestions,
        handle_question_list,
        "The question bank, filtered.",
        read_only=True,
    ),
    CommandSpec(
        "question.import",
        ImportQuestions,
        handle_question_import,
        "Import questions from JSON; invalid items are reported, valid ones kept.",
    ),
    CommandSpec("template.add", AddTemplate, handle_template_add, "Add an interview template."),
    CommandSpec(
        "template.list",
        ListTemplates,
        handle_template_list,
        "Seeded and added templates.",
        read_only=True,
    ),
    CommandSpec(
        "interview.start",
        StartInterview,
        handle_start,
        "Start a session from a template; returns the first question.",
    ),
    CommandSpec(
        "interview.respond",
        Respond,
        handle_respond,
        "Answer the current question (text or audio) -> next question or follow-up.",
    ),
    CommandSpec("interview.pause", SessionCommand, handle_pause, "Pause (stops the phase clock)."),
    CommandSpec("interview.resume", SessionCommand, handle_resume, "Resume a paused session."),
    CommandSpec("interview.skip", SessionCommand, handle_skip, "Skip the current question."),
    CommandSpec("interview.end", SessionCommand, handle_end, "End the session now."),
    CommandSpec(
        "interview.get",
        SessionCommand,
        handle_get,
        "A session with its transcript and report.",
        read_only=True,
    ),
    CommandSpec(
        "interview.phase_timeout",
        PhaseTimeout,
        handle_phase_timeout,
        "Internal (sent by the worker's phase timer): a phase ran out of time.",
    ),
    CommandSpec(
        "interview.report",
        MakeReport,
        handle_report,
        "Scores per phase and overall with evidence, as JSON and PDF.",
    ),
]

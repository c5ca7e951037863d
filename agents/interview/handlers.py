"""The interview worker's commands: each a plain async handler over the repository and ports.

The handlers live by subject in ``bank_handlers``, ``session_handlers`` and
``report_handlers``; this module is their table.
"""

from __future__ import annotations

from agents.interview.bank_handlers import (
    handle_question_add,
    handle_question_import,
    handle_question_list,
    handle_template_add,
    handle_template_list,
)
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
from agents.interview.report_handlers import handle_report
from agents.interview.session_handlers import (
    handle_end,
    handle_get,
    handle_pause,
    handle_phase_timeout,
    handle_respond,
    handle_resume,
    handle_skip,
    handle_start,
)
from enginedge_streams.handlers import CommandSpec

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

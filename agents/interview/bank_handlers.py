"""Question bank and template handlers."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from agents.interview import sessions as sm
from agents.interview.messages import (
    AddQuestion,
    AddTemplate,
    ImportQuestions,
    ListQuestions,
    ListTemplates,
)
from agents.interview.model import Question
from agents.interview.repository import InterviewRepository
from enginedge_streams.errors import ValidationError


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

"""Interview state on a key-value table (RocksDB in production, a dict in unit tests).

Keys: ``q/<question id>`` (added questions), ``t/<template id>`` (added
templates), ``s/<session id>`` (sessions with their transcript) and
``a/<session id>`` -> ``{"deadline", "phase_index", "epoch"}`` for every
session whose phase clock is running (what the phase timer scans).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import orjson

from agents.interview.bank import seeded_questions, seeded_templates
from agents.interview.model import Question, Session, Template


class KeyValueStore(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, value: bytes) -> None: ...

    def delete(self, key: str) -> None: ...

    def scan(self, prefix: str) -> Iterator[tuple[str, bytes]]: ...


class InterviewRepository:
    def __init__(self, kv: KeyValueStore) -> None:
        self.kv = kv

    # questions
    def question(self, question_id: str) -> Question | None:
        raw = self.kv.get(f"q/{question_id}")
        if raw is not None:
            return Question.model_validate_json(raw)
        return seeded_questions().get(question_id)

    def questions(self) -> list[Question]:
        merged = dict(seeded_questions())
        for _, raw in self.kv.scan("q/"):
            q = Question.model_validate_json(raw)
            merged[q.question_id] = q
        return sorted(merged.values(), key=lambda q: (q.phase, q.question_id))

    def put_question(self, question: Question) -> None:
        self.kv.put(f"q/{question.question_id}", question.model_dump_json().encode())

    # templates
    def template(self, template_id: str) -> Template | None:
        raw = self.kv.get(f"t/{template_id}")
        if raw is not None:
            return Template.model_validate_json(raw)
        return seeded_templates().get(template_id)

    def templates(self) -> list[Template]:
        merged = dict(seeded_templates())
        for _, raw in self.kv.scan("t/"):
            t = Template.model_validate_json(raw)
            merged[t.template_id] = t
        return sorted(merged.values(), key=lambda t: t.template_id)

    def put_template(self, template: Template) -> None:
        self.kv.put(f"t/{template.template_id}", template.model_dump_json().encode())

    # sessions
    def session(self, session_id: str) -> Session | None:
        raw = self.kv.get(f"s/{session_id}")
        return None if raw is None else Session.model_validate_json(raw)

    def put_session(self, session: Session) -> None:
        self.kv.put(f"s/{session.session_id}", session.model_dump_json().encode())
        plan = session.current_plan()
        key = f"a/{session.session_id}"
        if session.state == "active" and plan is not None and plan.deadline is not None:
            clock = {
                "deadline": plan.deadline,
                "phase_index": session.phase_index,
                "epoch": session.epoch,
            }
            self.kv.put(key, orjson.dumps(clock))
        elif self.kv.get(key) is not None:
            self.kv.delete(key)

    def running_clocks(self) -> list[tuple[str, dict[str, Any]]]:
        return [(k.removeprefix("a/"), dict(orjson.loads(v))) for k, v in self.kv.scan("a/")]

"""Interview state on a key-value table (RocksDB in production, a dict in unit tests).

Keys: ``q/<question id>`` (added questions), ``t/<template id>`` (added
templates), ``s/<session id>`` (sessions with their transcript) and
``a/<session id>`` -> ``{"deadline", "phase_index", "epoch"}`` for every
session whose phase clock is running (what the phase timer scans; after a recovery the timer
also looks for sessions whose clock write was lost, see ``sessions_missing_their_clock``).
"""

from __future__ import annotations

from typing import Any

import orjson

from agents.interview.bank import seeded_questions, seeded_templates
from agents.interview.model import Question, Session, Template
from enginedge_streams.ports.key_value_store import KeyValueStore


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
        clock = clock_of(session)
        key = f"a/{session.session_id}"
        if clock is not None:
            self.kv.put(key, orjson.dumps(clock))
        elif self.kv.get(key) is not None:
            self.kv.delete(key)

    def running_clocks(self) -> list[tuple[str, dict[str, Any]]]:
        return [(k.removeprefix("a/"), dict(orjson.loads(v))) for k, v in self.kv.scan("a/")]

    def generation(self) -> int:
        """Changes when the store is rebuilt (recovered from the changelog)."""
        return int(getattr(self.kv, "generation", 0))

    def sessions_missing_their_clock(self) -> set[str]:
        """Running sessions whose ``a/`` clock is absent or is not theirs (a full scan).

        The session and its clock are two keys, two changelog writes: a worker killed between
        them comes back with one but not the other. The phase timer asks after a recovery.
        """
        out = set()
        for _, raw in self.kv.scan("s/"):
            session = Session.model_validate_json(raw)
            clock = clock_of(session)
            if clock is None:
                continue
            stored = self.kv.get(f"a/{session.session_id}")
            if stored is None or orjson.loads(stored) != clock:
                out.add(session.session_id)
        return out


def clock_of(session: Session) -> dict[str, Any] | None:
    """The phase clock the timer watches, for an active session whose phase has a deadline."""
    plan = session.current_plan()
    if session.state != "active" or plan is None or plan.deadline is None:
        return None
    return {"deadline": plan.deadline, "phase_index": session.phase_index, "epoch": session.epoch}

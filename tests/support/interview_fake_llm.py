"""A test-only `llm` worker (``WORKER_PLUGINS=llm=tests.support.interview_fake_llm``) that
answers the interview worker's grading calls (``assistant.complete``) with a deterministic
JSON verdict.

The verdict: ``score`` = the rule score (without speech analysis) moved by
(number of words of the answer) % 11 - 5 and kept 5 points inside the band the rule criteria
allow, so that it passes the interview worker's validation (issue 21) yet differs from the rule
score; ``evidence`` = the answer's first five words (an exact quote, so the worker keeps it), one strength ``fake-llm strength`` and one
improvement ``fake-llm: <question id words>``. An answer containing :data:`SLOW_MARKER` is
answered only after ``FAKE_LLM_SLOW_SECONDS`` (default 8), so a caller with a shorter deadline
gives up on it.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import faust
from pydantic import BaseModel, ConfigDict, Field

from agents.interview.bank import seeded_questions
from agents.interview.grade_validation import score_band
from agents.interview.scoring import DEFAULT_RULE_WEIGHTS, rule_score
from enginedge_streams.container import Container
from enginedge_streams.handlers import CommandSpec
from enginedge_streams.worker import Worker

SLOW_MARKER = "tortoise"
MODEL = "fake-interview-grader"


class Complete(BaseModel):
    model_config = ConfigDict(extra="allow")

    prompt: str = Field(min_length=1)
    system: str | None = None
    model: str | None = None
    max_tokens: int | None = None
    temperature: float = 0.7


def answer_of(prompt: str) -> str:
    """The answer part of the interview worker's grading prompt (``...Answer:\\n<answer>``)."""
    return prompt.rpartition("Answer:\n")[2].strip()


def question_of(prompt: str) -> str:
    """The seeded question the grading prompt is about (by its ``Question:`` line)."""
    text = prompt.partition("\nQuestion: ")[2].partition("\n")[0].strip()
    return next(q.question_id for q in seeded_questions().values() if q.text == text)


def expected_score(answer: str, question_id: str) -> int:
    q = seeded_questions()[question_id]
    rules = rule_score(q, answer, None, spoken=False, weights=dict(DEFAULT_RULE_WEIGHTS))
    lo, hi = score_band(rules)
    return max(lo + 5, min(hi - 5, int(rules["score"]) + len(answer.split()) % 11 - 5))


def verdict(prompt: str) -> dict[str, Any]:
    answer = answer_of(prompt)
    return {
        "score": expected_score(answer, question_of(prompt)),
        "evidence": " ".join(answer.split()[:5]),
        "strengths": ["fake-llm strength"],
        "improvements": ["fake-llm improvement"],
    }


async def handle_complete(cmd: Complete) -> dict[str, Any]:
    if SLOW_MARKER in answer_of(cmd.prompt).lower():
        await asyncio.sleep(float(os.environ.get("FAKE_LLM_SLOW_SECONDS", "8")))
    text = json.dumps(verdict(cmd.prompt))
    return {
        "text": text,
        "model": MODEL,
        "usage": {"prompt_tokens": len(cmd.prompt.split()), "completion_tokens": len(text.split())},
    }


COMMANDS = [CommandSpec("assistant.complete", Complete, handle_complete, "Fake grader.")]


def register(app: faust.App, container: Container) -> Any:
    return Worker(app, container, "llm").serve(COMMANDS, {})

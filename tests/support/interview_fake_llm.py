"""A test-only `llm` worker (``WORKER_PLUGINS=llm=tests.support.interview_fake_llm``) that
answers the interview worker's grading calls (``assistant.complete``) with a deterministic
JSON verdict.

The verdict: ``score`` = 100 - (number of words of the answer) % 23 (never what the rule-based
scorer would produce by chance in the tests), ``evidence`` = the answer's first five words
(an exact quote, so the interview worker keeps it), one strength ``fake-llm strength`` and one
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


def expected_score(answer: str) -> int:
    return 100 - len(answer.split()) % 23


def verdict(prompt: str) -> dict[str, Any]:
    answer = answer_of(prompt)
    return {
        "score": expected_score(answer),
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

"""What the assistant's handlers share: memory defaults, usage, the answer's view, streaming."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from agents.llm.gateway import ChatOutcome
from agents.llm.memory import Conversation
from enginedge_streams.errors import PermanentError
from enginedge_streams.handlers import CommandContext


@dataclass(frozen=True)
class MemoryDefaults:
    strategy: str = "window"
    window_turns: int = 20
    max_stored_bytes: int = 512_000
    summary_words: int = 150
    agent_tool_timeout_s: float = 30.0


def record_usage(ctx: CommandContext, outcome: ChatOutcome) -> None:
    ctx.add_usage(**outcome.usage(), cost_usd=outcome.cost_usd, model=outcome.model.name)


def answer_view(outcome: ChatOutcome) -> dict[str, Any]:
    r = outcome.response
    return {
        "text": r.text,
        "model": outcome.model.name,
        "provider": r.provider or outcome.model.provider,
        "usage": outcome.usage(),
        "cost_usd": outcome.cost_usd,
        "finish_reason": r.finish_reason,
        "fallback_used": outcome.fallback_used,
    }


class Streamer:
    """Publishes the partial text of a streamed answer as progress (throttled)."""

    def __init__(self, ctx: CommandContext, every_s: float = 0.25) -> None:
        self.ctx = ctx
        self.every_s = every_s
        self.parts: list[str] = []
        self.last = 0.0

    def __call__(self, delta: str) -> None:
        self.parts.append(delta)
        now = time.monotonic()
        if now - self.last >= self.every_s:
            self.last = now
            self.ctx.progress(partial_text="".join(self.parts), chunks=len(self.parts))


def owner_check(conv: Conversation, user_id: str | None) -> None:
    if conv.user_id and user_id and conv.user_id != user_id:
        raise PermanentError(
            f"conversation {conv.conversation_id!r} belongs to another user",
            code="CONVERSATION_FORBIDDEN",
        )


def new_conversation(
    conversation_id: str, user_id: str | None, defaults: MemoryDefaults
) -> Conversation:
    return Conversation(
        conversation_id=conversation_id,
        user_id=user_id,
        strategy="summary" if defaults.strategy == "summary" else "window",
        window_turns=defaults.window_turns,
    )

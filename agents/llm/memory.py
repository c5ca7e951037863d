"""Conversation memory: turns, the window and summary strategies, per-user usage totals.

Plain pydantic models (stored as JSON in a RocksDB-backed Faust table) and pure
functions; the handlers decide when to call a model to summarise.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from enginedge_streams.records import utcnow

Strategy = Literal["window", "summary"]
TurnKind = Literal["message", "step"]
MAX_APPLIED = 200  # command ids remembered per conversation (idempotency window)
MAX_RECENT = 1000  # command ids remembered per user


class Turn(BaseModel):
    role: Literal["user", "assistant", "tool"]
    content: str
    command_id: str
    kind: TurnKind = "message"
    step: int | None = None
    tool: str | None = None
    args: dict[str, Any] | None = None
    model: str | None = None
    tokens: int = 0
    cost_usd: float = 0.0
    at: datetime = Field(default_factory=utcnow)


class Conversation(BaseModel):
    conversation_id: str
    user_id: str | None = None
    system_prompt: str | None = None
    strategy: Strategy = "window"
    window_turns: int = 20
    turns: list[Turn] = Field(default_factory=list)
    summary: str = ""
    summarized_turns: int = 0  # message turns folded into ``summary`` (the oldest ones)
    dropped_turns: int = 0  # oldest turns removed from storage to bound its size
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    applied: dict[str, Any] = Field(default_factory=dict)  # command id -> its stored result
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    def messages(self) -> list[Turn]:
        """Turns that are dialogue (user/assistant messages), oldest first."""
        return [t for t in self.turns if t.kind == "message"]

    def add_cost(self, prompt_tokens: int, completion_tokens: int, cost_usd: float) -> None:
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens
        self.cost_usd = round(self.cost_usd + cost_usd, 10)
        self.calls += 1

    def remember(self, command_id: str, result: Any) -> None:
        self.applied[command_id] = result
        while len(self.applied) > MAX_APPLIED:
            self.applied.pop(next(iter(self.applied)))
        self.updated_at = utcnow()

    def compact(self, max_bytes: int, *, keep_applied: int = 1) -> None:
        """Fit the JSON in ``max_bytes`` (the changelog's message limit).

        First forget the oldest remembered results (only recent commands can be
        redelivered), then drop the oldest stored turns.
        """
        while len(self.applied) > keep_applied and len(self.model_dump_json()) > max_bytes:
            self.applied.pop(next(iter(self.applied)))
        while len(self.turns) > 2 and len(self.model_dump_json()) > max_bytes:
            dropped = self.turns.pop(0)
            self.dropped_turns += 1
            if dropped.kind == "message" and self.summarized_turns > 0:
                self.summarized_turns -= 1

    def view(self, *, last: int | None = None) -> dict[str, Any]:
        turns = self.turns if last is None else self.turns[-last:]
        data = self.model_dump(mode="json", exclude={"applied", "turns"})
        data["turns"] = [t.model_dump(mode="json", exclude_none=True) for t in turns]
        data["turn_count"] = len(self.turns)
        return data


class UserUsage(BaseModel):
    user_id: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    by_model: dict[str, float] = Field(default_factory=dict)
    recent_commands: list[str] = Field(default_factory=list)
    updated_at: datetime = Field(default_factory=utcnow)

    def add(
        self, command_id: str, model: str, prompt_tokens: int, completion_tokens: int, cost: float
    ) -> bool:
        """Count one command's usage once; False if this command was already counted."""
        if command_id in self.recent_commands:
            return False
        self.recent_commands.append(command_id)
        del self.recent_commands[:-MAX_RECENT]
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens
        self.cost_usd = round(self.cost_usd + cost, 10)
        self.by_model[model] = round(self.by_model.get(model, 0.0) + cost, 10)
        self.calls += 1
        self.updated_at = utcnow()
        return True

"""Payloads of the assistant worker's commands (validated; JSON Schemas in docs/schemas)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_TEXT = 100_000
MODEL = Field(None, max_length=200, description="Model name (see models.list) or provider:model.")
CONVERSATION_ID = r"^[A-Za-z0-9._:@-]{1,200}$"


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Message(_Payload):
    role: Literal["system", "user", "assistant"]
    content: str = Field(max_length=MAX_TEXT)


class Complete(_Payload):
    """`assistant.complete`: one completion from a prompt, messages, or a template."""

    prompt: str | None = Field(None, min_length=1, max_length=MAX_TEXT)
    messages: list[Message] | None = Field(None, min_length=1, max_length=200)
    template: str | None = Field(None, max_length=100)
    variables: dict[str, str | int | float] = Field(default_factory=dict, max_length=50)
    system: str | None = Field(None, max_length=20_000)
    model: str | None = MODEL
    max_tokens: int | None = Field(None, ge=1, le=200_000)
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    stream: bool = Field(
        False, description="Stream from the provider; partial text is visible in the status."
    )

    @model_validator(mode="after")
    def _one_source(self) -> Complete:
        given = [n for n in ("prompt", "messages", "template") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of prompt, messages or template")
        if self.variables and self.template is None:
            raise ValueError("variables need a template")
        return self


class MemoryOptions(_Payload):
    strategy: Literal["window", "summary"] | None = None
    window_turns: int | None = Field(None, ge=0, le=500)


class Chat(_Payload):
    """`assistant.chat`: one turn of a conversation kept in memory."""

    conversation_id: str = Field(pattern=CONVERSATION_ID)
    user_id: str | None = Field(None, max_length=200)
    message: str = Field(min_length=1, max_length=MAX_TEXT)
    system: str | None = Field(
        None, max_length=20_000, description="Sets the conversation's system prompt."
    )
    model: str | None = MODEL
    max_tokens: int | None = Field(None, ge=1, le=200_000)
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    memory: MemoryOptions | None = None


class RunAgent(_Payload):
    """`assistant.run_agent`: a ReAct loop whose tools run on the tool worker."""

    task: str = Field(min_length=1, max_length=MAX_TEXT)
    tools: list[str] | None = Field(
        None, max_length=50, description="Allowed tools (default: every tool the worker has)."
    )
    max_steps: int = Field(6, ge=1, le=30)
    model: str | None = MODEL
    conversation_id: str | None = Field(
        None, pattern=CONVERSATION_ID, description="Record the run here (default agent-<id>)."
    )
    user_id: str | None = Field(None, max_length=200)
    max_tokens: int | None = Field(None, ge=1, le=200_000)
    temperature: float = Field(0.2, ge=0.0, le=2.0)
    tool_timeout_s: float | None = Field(None, gt=0, le=600)


class GetConversation(_Payload):
    """`conversation.get`: history, summary and cost of a conversation."""

    conversation_id: str = Field(pattern=CONVERSATION_ID)
    last: int | None = Field(None, ge=1, le=10_000, description="Only the last N turns.")


class DeleteConversation(_Payload):
    """`conversation.delete`: forget a conversation."""

    conversation_id: str = Field(pattern=CONVERSATION_ID)


class ListModels(_Payload):
    """`models.list`: the model registry, with availability and prices; templates too."""

    provider: str | None = Field(None, max_length=50)


class GetUsage(_Payload):
    """`usage.get`: tokens and cost summed for one user."""

    user_id: str = Field(min_length=1, max_length=200)


class Embed(_Payload):
    """`assistant.embed`: embedding vectors from an embedding model (OpenAI-compatible)."""

    texts: list[str] = Field(min_length=1, max_length=100)
    model: str = Field("text-embedding-3-small", max_length=200)

    @model_validator(mode="after")
    def _sizes(self) -> Embed:
        if any(len(t) > 32_000 or not t for t in self.texts):
            raise ValueError("each text must have 1..32000 characters")
        return self


def dump(value: Any) -> Any:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value

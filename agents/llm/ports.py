"""The assistant worker's ports: chat providers, conversation memory, tools, token counting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from agents.llm.memory import Conversation, UserUsage

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None  # role == "tool": which call this answers
    name: str | None = None  # role == "tool": the tool's name


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON Schema of the arguments


@dataclass(frozen=True)
class ChatRequest:
    model: str  # the provider's model id
    messages: tuple[ChatMessage, ...]
    max_tokens: int
    temperature: float = 0.7
    tools: tuple[ToolSpec, ...] = ()
    stop: tuple[str, ...] = ()
    timeout_s: float = 60.0
    #: a GBNF grammar the reply must follow (llama-server's ``grammar``; others ignore it)
    grammar: str = ""


@dataclass(frozen=True)
class ChatResponse:
    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str = "stop"
    tool_calls: tuple[ToolCall, ...] = ()
    provider: str = ""


@dataclass
class StreamChunk:
    """One piece of a streamed answer; the last one carries usage and finish reason."""

    text: str = ""
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ChatProvider(Protocol):
    """One LLM API. Errors are the platform's: ``RateLimitedError(retry_after=...)`` for 429,
    ``RetryableError`` for 5xx/timeouts, ``DependencyUnavailableError`` when unreachable,
    ``PermanentError`` for requests the provider rejects."""

    name: str
    supports_tools: bool

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def chat(self, request: ChatRequest) -> ChatResponse: ...

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]: ...


class Embedder(Protocol):
    async def embed(self, texts: list[str], *, model: str) -> tuple[list[list[float]], int]:
        """Vectors for ``texts`` and the prompt tokens billed."""
        ...


class ConversationStore(Protocol):
    """Conversation memory and per-user usage (a RocksDB-backed Faust table in production)."""

    def get(self, conversation_id: str) -> Conversation | None: ...

    def put(self, conversation: Conversation) -> None: ...

    def delete(self, conversation_id: str) -> bool: ...

    def get_usage(self, user_id: str) -> UserUsage | None: ...

    def put_usage(self, usage: UserUsage) -> None: ...


@dataclass(frozen=True)
class ToolResult:
    ok: bool
    output: Any = None
    error_code: str | None = None
    error_message: str | None = None
    retryable: bool = False  # a transient refusal (timeout, rate limit): the same call may pass


class ToolRunner(Protocol):
    """Runs tools for the agent loop (the tool worker, over the bus)."""

    async def list_tools(self) -> list[ToolSpec]: ...

    async def execute(
        self, tool: str, args: dict[str, Any], *, call_id: str, budget_key: str, timeout: float
    ) -> ToolResult: ...


class TokenCounter(Protocol):
    def count(self, text: str) -> int: ...

    def count_messages(self, messages: list[ChatMessage]) -> int: ...

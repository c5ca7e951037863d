"""Deterministic in-memory adapters for the assistant worker's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from agents.llm.kv_conversation_store import KeyValueConversationStore
from agents.llm.ports import (
    ChatRequest,
    ChatResponse,
    StreamChunk,
    ToolCall,
    ToolResult,
    ToolSpec,
)
from enginedge_streams.testing.key_value_store import InMemoryKeyValueStore

Script = Callable[[ChatRequest], ChatResponse | Exception]


class ScriptedChatProvider:
    """Answers from a script: a function of the request, or a list of replies in order.

    Records every request. A reply that is an exception is raised (to test errors).
    """

    def __init__(
        self,
        replies: list[ChatResponse | Exception | str] | None = None,
        *,
        script: Script | None = None,
        name: str = "scripted",
        supports_tools: bool = True,
    ) -> None:
        self.replies = list(replies or [])
        self.script = script
        self.name = name
        self.supports_tools = supports_tools
        self.requests: list[ChatRequest] = []
        self.started = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.started = False

    def _next(self, request: ChatRequest) -> ChatResponse:
        self.requests.append(request)
        reply: ChatResponse | Exception | str
        if self.script is not None:
            reply = self.script(request)
        elif self.replies:
            reply = self.replies.pop(0)
        else:
            reply = f"echo: {request.messages[-1].content}"
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, str):
            reply = ChatResponse(
                text=reply,
                model=request.model,
                prompt_tokens=sum(len(m.content.split()) for m in request.messages) + 1,
                completion_tokens=len(reply.split()),
                provider=self.name,
            )
        return reply

    async def chat(self, request: ChatRequest) -> ChatResponse:
        return self._next(request)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        reply = self._next(request)
        words = reply.text.split(" ")
        for i, word in enumerate(words):
            yield StreamChunk(text=word if i == 0 else " " + word)
        yield StreamChunk(
            finish_reason=reply.finish_reason,
            prompt_tokens=reply.prompt_tokens,
            completion_tokens=reply.completion_tokens,
        )


def tool_call_reply(name: str, args: dict[str, Any], call_id: str = "call_1") -> ChatResponse:
    return ChatResponse(
        text="",
        model="scripted",
        prompt_tokens=10,
        completion_tokens=5,
        finish_reason="tool_calls",
        tool_calls=(ToolCall(call_id, name, args),),
    )


class InMemoryConversationStore(KeyValueConversationStore):
    """The production store's code over the platform's in-memory key-value fake."""

    def __init__(self) -> None:
        super().__init__(InMemoryKeyValueStore())


class FakeToolRunner:
    """Runs tools from a table of Python functions; records every execution."""

    def __init__(self, functions: dict[str, Callable[[dict[str, Any]], Any]]) -> None:
        self.functions = functions
        self.executions: list[tuple[str, dict[str, Any], str, str]] = []

    async def list_tools(self) -> list[ToolSpec]:
        return [
            ToolSpec(name, f"the {name} tool", {"type": "object", "properties": {}})
            for name in sorted(self.functions)
        ]

    async def execute(
        self, tool: str, args: dict[str, Any], *, call_id: str, budget_key: str, timeout: float
    ) -> ToolResult:
        self.executions.append((tool, args, call_id, budget_key))
        try:
            return ToolResult(True, self.functions[tool](args))
        except Exception as exc:
            return ToolResult(False, None, "TOOL_ERROR", str(exc))

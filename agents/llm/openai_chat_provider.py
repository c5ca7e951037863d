"""The ``ChatProvider`` and ``Embedder`` ports on the official ``openai`` SDK.

Also serves any OpenAI-compatible server by base URL (Ollama, vLLM, llama.cpp
server) under another provider name. The SDK's own retries are off
(``max_retries=0``): the platform's policy retries, so a 429's ``Retry-After``
reaches the scheduler and a failing provider can fall back.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from agents.llm.ports import ChatMessage, ChatRequest, ChatResponse, StreamChunk, ToolCall
from agents.llm.provider_errors import status_error, timeout_error, unreachable_error
from agents.llm.sdk_chat_provider import SdkChatProvider
from enginedge_streams.errors import EnginEdgeError, PermanentError


def to_openai_messages(messages: tuple[ChatMessage, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "tool":
            out.append({"role": "tool", "tool_call_id": m.tool_call_id or "", "content": m.content})
        elif m.role == "assistant" and m.tool_calls:
            out.append(
                {
                    "role": "assistant",
                    "content": m.content or None,
                    "tool_calls": [
                        {
                            "id": c.id,
                            "type": "function",
                            "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
                        }
                        for c in m.tool_calls
                    ],
                }
            )
        else:
            out.append({"role": m.role, "content": m.content})
    return out


def to_openai_tools(request: ChatRequest) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
        }
        for t in request.tools
    ]


def parse_arguments(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except json.JSONDecodeError:
        return {"_unparsed": raw}
    return value if isinstance(value, dict) else {"_value": value}


def openai_style_kwargs(request: ChatRequest) -> dict[str, Any]:
    """The chat-completion arguments every OpenAI-style API takes (OpenAI, Hugging Face)."""
    kwargs: dict[str, Any] = {
        "model": request.model,
        "messages": to_openai_messages(request.messages),
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
    }
    if request.tools:
        kwargs["tools"] = to_openai_tools(request)
    if request.stop:
        kwargs["stop"] = list(request.stop)
    return kwargs


def chat_response(
    completion: Any, request: ChatRequest, calls: tuple[ToolCall, ...], provider: str
) -> ChatResponse:
    """A ``ChatResponse`` from an OpenAI-style chat completion (OpenAI, Hugging Face)."""
    choice = completion.choices[0]
    usage = completion.usage
    return ChatResponse(
        text=choice.message.content or "",
        model=completion.model or request.model,
        prompt_tokens=usage.prompt_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
        finish_reason=choice.finish_reason or "stop",
        tool_calls=calls,
        provider=provider,
    )


def stream_chunk(event: Any) -> StreamChunk:
    """A ``StreamChunk`` from an OpenAI-style streamed event (OpenAI, Hugging Face)."""
    chunk = StreamChunk()
    if event.choices:
        choice = event.choices[0]
        chunk.text = (choice.delta.content or "") if choice.delta else ""
        chunk.finish_reason = choice.finish_reason
    usage = getattr(event, "usage", None)
    if usage:
        chunk.prompt_tokens = usage.prompt_tokens
        chunk.completion_tokens = usage.completion_tokens
    return chunk


class OpenAIChatProvider(SdkChatProvider):
    default_name = "openai"

    async def start(self) -> None:
        if self._client is None:
            from openai import AsyncOpenAI

            self._client = AsyncOpenAI(
                api_key=self.api_key or "not-needed",
                base_url=self.base_url or None,
                max_retries=0,
                timeout=self.timeout_s,
            )

    def _kwargs(self, request: ChatRequest) -> dict[str, Any]:
        kwargs = openai_style_kwargs(request)
        kwargs["timeout"] = request.timeout_s
        if request.grammar:  # an OpenAI-compatible llama.cpp server: constrained decoding
            kwargs["extra_body"] = {"grammar": request.grammar}
        return kwargs

    async def chat(self, request: ChatRequest) -> ChatResponse:
        client = await self._ready()
        try:
            completion = await client.chat.completions.create(**self._kwargs(request))
        except Exception as exc:
            raise self._error(exc, request.timeout_s) from None
        if not completion.choices:
            raise PermanentError(f"{self.name} returned no choices", code="PROVIDER_EMPTY")
        choice = completion.choices[0]
        message = choice.message
        calls = tuple(
            ToolCall(c.id, c.function.name, parse_arguments(c.function.arguments))
            for c in (message.tool_calls or [])
            if getattr(c, "function", None) is not None
        )
        return chat_response(completion, request, calls, self.name)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        client = await self._ready()
        kwargs = {**self._kwargs(request), "stream": True}
        kwargs["stream_options"] = {"include_usage": True}
        try:
            events = await client.chat.completions.create(**kwargs)
            async for event in events:
                yield stream_chunk(event)
        except EnginEdgeError:
            raise
        except Exception as exc:
            raise self._error(exc, request.timeout_s) from None

    async def embed(self, texts: list[str], *, model: str) -> tuple[list[list[float]], int]:
        client = await self._ready()
        try:
            resp = await client.embeddings.create(model=model, input=texts)
        except Exception as exc:
            raise self._error(exc, self.timeout_s) from None
        vectors = [list(d.embedding) for d in sorted(resp.data, key=lambda d: d.index)]
        return vectors, resp.usage.prompt_tokens if resp.usage else 0

    def _error(self, exc: Exception, timeout_s: float) -> Exception:
        import openai

        if isinstance(exc, openai.APITimeoutError):
            return timeout_error(self.name, timeout_s)
        if isinstance(exc, openai.APIConnectionError):
            return unreachable_error(self.name, exc)
        if isinstance(exc, openai.APIStatusError):
            return status_error(self.name, exc.status_code, str(exc.message), exc.response.headers)
        if isinstance(exc, openai.OpenAIError):
            return PermanentError(f"{self.name}: {exc}", code="PROVIDER_ERROR")
        return exc

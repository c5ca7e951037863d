"""The ``ChatProvider`` port on ``huggingface_hub``'s ``AsyncInferenceClient``.

Hugging Face Inference (serverless providers, Inference Endpoints or a
self-hosted TGI server via ``HUGGINGFACE_BASE_URL``) through its
OpenAI-style chat-completion task.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from agents.llm.openai_chat_provider import (
    chat_response,
    openai_style_kwargs,
    parse_arguments,
    stream_chunk,
)
from agents.llm.ports import ChatRequest, ChatResponse, StreamChunk, ToolCall
from agents.llm.provider_errors import status_error, timeout_error, unreachable_error
from agents.llm.sdk_chat_provider import SdkChatProvider
from enginedge_streams.errors import EnginEdgeError, PermanentError


class HuggingFaceChatProvider(SdkChatProvider):
    default_name = "huggingface"

    async def start(self) -> None:
        if self._client is None:
            from huggingface_hub import AsyncInferenceClient

            self._client = AsyncInferenceClient(
                base_url=self.base_url or None, api_key=self.api_key, timeout=self.timeout_s
            )

    def _kwargs(self, request: ChatRequest) -> dict[str, Any]:
        return openai_style_kwargs(request)

    async def chat(self, request: ChatRequest) -> ChatResponse:
        client = await self._ready()
        try:
            out = await client.chat_completion(**self._kwargs(request))
        except Exception as exc:
            raise self._error(exc, request.timeout_s) from None
        if not out.choices:
            raise PermanentError(f"{self.name} returned no choices", code="PROVIDER_EMPTY")
        choice = out.choices[0]
        calls = tuple(
            ToolCall(
                c.id,
                c.function.name,
                c.function.arguments
                if isinstance(c.function.arguments, dict)
                else parse_arguments(c.function.arguments),
            )
            for c in (choice.message.tool_calls or [])
        )
        return chat_response(out, request, calls, self.name)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        client = await self._ready()
        try:
            events = await client.chat_completion(
                **self._kwargs(request), stream=True, stream_options={"include_usage": True}
            )
            async for event in events:
                yield stream_chunk(event)
        except EnginEdgeError:
            raise
        except Exception as exc:
            raise self._error(exc, request.timeout_s) from None

    def _error(self, exc: Exception, timeout_s: float) -> Exception:
        import httpx
        from huggingface_hub.errors import HfHubHTTPError, InferenceTimeoutError

        if isinstance(exc, InferenceTimeoutError | httpx.TimeoutException | TimeoutError):
            return timeout_error(self.name, timeout_s)
        if isinstance(exc, HfHubHTTPError) and exc.response is not None:
            resp = exc.response
            return status_error(self.name, resp.status_code, str(exc), resp.headers)
        if isinstance(exc, httpx.TransportError | OSError):
            return unreachable_error(self.name, exc)
        return PermanentError(f"{self.name}: {type(exc).__name__}: {exc}", code="PROVIDER_ERROR")

"""The ``ChatProvider`` port on the official ``anthropic`` SDK (Messages API, tool use).

System messages become the ``system`` parameter; tool calls are ``tool_use``
blocks and observations ``tool_result`` blocks in a user turn; consecutive
turns of one role are merged (the API wants them alternating). SDK retries
are off: the platform's policy retries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from agents.llm.ports import ChatMessage, ChatRequest, ChatResponse, StreamChunk, ToolCall
from agents.llm.provider_errors import status_error, timeout_error, unreachable_error
from agents.llm.sdk_chat_provider import SdkChatProvider
from enginedge_streams.errors import EnginEdgeError, PermanentError

FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
}


def to_anthropic(messages: tuple[ChatMessage, ...]) -> tuple[str, list[dict[str, Any]]]:
    system = "\n\n".join(m.content for m in messages if m.role == "system" and m.content)
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "system":
            continue
        if m.role == "tool":
            role = "user"
            blocks: list[dict[str, Any]] = [
                {"type": "tool_result", "tool_use_id": m.tool_call_id or "", "content": m.content}
            ]
        else:
            role = m.role
            blocks = [{"type": "text", "text": m.content}] if m.content else []
            blocks += [
                {"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments}
                for c in m.tool_calls
            ]
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    return system, out


class AnthropicChatProvider(SdkChatProvider):
    default_name = "anthropic"
    _sampling_params: frozenset[str] = frozenset()

    async def start(self) -> None:
        if self._client is None:
            import inspect

            from anthropic import AsyncAnthropic
            from anthropic.resources.messages import AsyncMessages

            # Newer SDKs dropped sampling parameters from the Messages API; send only
            # what this SDK version accepts.
            accepted = set(inspect.signature(AsyncMessages.create).parameters)
            self._sampling_params = frozenset(accepted & {"temperature"})

            self._client = AsyncAnthropic(
                api_key=self.api_key or "not-set",
                base_url=self.base_url or None,
                max_retries=0,
                timeout=self.timeout_s,
            )

    def _kwargs(self, request: ChatRequest) -> dict[str, Any]:
        system, messages = to_anthropic(request.messages)
        kwargs: dict[str, Any] = {
            "model": request.model,
            "messages": messages,
            "max_tokens": request.max_tokens,
            "timeout": request.timeout_s,
        }
        if "temperature" in self._sampling_params:
            kwargs["temperature"] = request.temperature
        if system:
            kwargs["system"] = system
        if request.tools:
            kwargs["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.parameters}
                for t in request.tools
            ]
        if request.stop:
            kwargs["stop_sequences"] = list(request.stop)
        return kwargs

    async def chat(self, request: ChatRequest) -> ChatResponse:
        client = await self._ready()
        try:
            msg = await client.messages.create(**self._kwargs(request))
        except Exception as exc:
            raise self._error(exc, request.timeout_s) from None
        texts, calls = [], []
        for block in msg.content:
            if block.type == "text":
                texts.append(block.text)
            elif block.type == "tool_use":
                args = block.input if isinstance(block.input, dict) else {"_value": block.input}
                calls.append(ToolCall(block.id, block.name, args))
        return ChatResponse(
            text="".join(texts),
            model=msg.model or request.model,
            prompt_tokens=msg.usage.input_tokens,
            completion_tokens=msg.usage.output_tokens,
            finish_reason=FINISH.get(msg.stop_reason or "", msg.stop_reason or "stop"),
            tool_calls=tuple(calls),
            provider=self.name,
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        client = await self._ready()
        prompt_tokens = 0
        try:
            events = await client.messages.create(**self._kwargs(request), stream=True)
            async for event in events:
                if event.type == "message_start":
                    prompt_tokens = event.message.usage.input_tokens
                elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                    yield StreamChunk(text=event.delta.text)
                elif event.type == "message_delta":
                    reason = event.delta.stop_reason or "stop"
                    yield StreamChunk(
                        finish_reason=FINISH.get(reason, reason),
                        prompt_tokens=prompt_tokens,
                        completion_tokens=event.usage.output_tokens,
                    )
        except EnginEdgeError:
            raise
        except Exception as exc:
            raise self._error(exc, request.timeout_s) from None

    def _error(self, exc: Exception, timeout_s: float) -> Exception:
        import anthropic

        if isinstance(exc, anthropic.APITimeoutError):
            return timeout_error(self.name, timeout_s)
        if isinstance(exc, anthropic.APIConnectionError):
            return unreachable_error(self.name, exc)
        if isinstance(exc, anthropic.APIStatusError):
            return status_error(self.name, exc.status_code, str(exc.message), exc.response.headers)
        if isinstance(exc, anthropic.AnthropicError):
            return PermanentError(f"{self.name}: {exc}", code="PROVIDER_ERROR")
        return exc

"""The LLM gateway: model resolution, limits, provider call, fallback, usage and metrics.

Every model call of every handler goes through :meth:`LlmGateway.chat`:

1. ``max_tokens`` above ``MAX_TOKENS_PER_REQUEST`` -> ``LIMIT_EXCEEDED``; it is
   also capped by the model's own output limit;
2. prompt + ``max_tokens`` above the context window -> ``CONTEXT_TOO_LARGE``
   (callers trim or summarise first, so this only happens for one huge message);
3. ``RATE_LIMIT_REQUESTS_PER_MINUTE`` and ``RATE_LIMIT_TOKENS_PER_MINUTE`` through
   the platform's Redis limiter (shared by replicas) -> ``RateLimitedError``;
4. the provider call; a retryable failure is raised for the platform to retry
   with backoff, and from attempt ``LLM_FALLBACK_AFTER_ATTEMPTS`` on the
   configured fallback provider is tried in the same attempt instead;
5. cost from the registry's prices and the provider's reported usage; metrics.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from agents.llm.model_registry import PROVIDER_DEFAULTS, ModelInfo, ModelRegistry
from agents.llm.ports import (
    ChatMessage,
    ChatProvider,
    ChatRequest,
    ChatResponse,
    TokenCounter,
    ToolSpec,
)
from enginedge_streams import errors
from enginedge_streams.ports.rate_limiter import RateLimiter

log = logging.getLogger("enginedge.llm")
TOKEN_UNIT = 100  # tokens per unit in the Redis token budget (keeps its log small)
DeltaCallback = Callable[[str], None]


@dataclass(frozen=True)
class LlmLimits:
    max_tokens_per_request: int = 4000
    requests_per_minute: int = 60
    tokens_per_minute: int = 100_000
    request_timeout_s: float = 60.0
    fallback_after_attempts: int = 2


@dataclass(frozen=True)
class ChatOutcome:
    response: ChatResponse
    model: ModelInfo
    cost_usd: float
    fallback_used: bool = False
    prompt_tokens_estimate: int = 0

    def usage(self) -> dict[str, Any]:
        r = self.response
        return {
            "prompt_tokens": r.prompt_tokens,
            "completion_tokens": r.completion_tokens,
            "total_tokens": r.prompt_tokens + r.completion_tokens,
        }


class Metrics:
    """Hooks the wiring points at the worker's Prometheus metrics (no-ops in unit tests)."""

    def external_call(self, api: str, *, error: bool = False) -> None:
        return None

    def tokens(self, model: str, prompt: int, completion: int) -> None:
        return None

    def cost(self, model: str, usd: float) -> None:
        return None


class LlmGateway:
    def __init__(
        self,
        providers: Mapping[str, ChatProvider],
        registry: ModelRegistry,
        counter: TokenCounter,
        rate_limiter: RateLimiter,
        limits: LlmLimits,
        *,
        default_model: str = "",
        fallback_model: str = "",
        metrics: Metrics | None = None,
    ) -> None:
        self.providers = dict(providers)
        self.registry = registry
        self.counter = counter
        self.rate_limiter = rate_limiter
        self.limits = limits
        self.default_model = default_model
        self.fallback_model = fallback_model
        self.metrics = metrics or Metrics()

    # -- models ------------------------------------------------------------------------

    def resolve(self, name: str | None) -> ModelInfo:
        """The model to use: the requested one, ``DEFAULT_MODEL``, or the best configured."""
        name = name or self.default_model or self._auto_default()
        info = self.registry.get(name)
        if info is None:
            raise errors.NotFoundError(
                f"unknown model {name!r}; see models.list, or use provider:model",
                code="UNKNOWN_MODEL",
            )
        if info.kind != "chat":
            raise errors.PermanentError(f"{name!r} is not a chat model", code="UNSUPPORTED_MODEL")
        if info.provider not in self.providers:
            raise errors.PermanentError(
                f"model {name!r} needs provider {info.provider!r}, which is not configured "
                f"(configured: {', '.join(sorted(self.providers))})",
                code="PROVIDER_NOT_CONFIGURED",
            )
        return info

    def _auto_default(self) -> str:
        for provider in ("openai", "anthropic", "local"):
            if provider in self.providers:
                return PROVIDER_DEFAULTS[provider]
        return next(iter(self.registry.models))

    def listing(self) -> list[dict[str, Any]]:
        out = []
        for item in self.registry.listing():
            item["available"] = item["provider"] in self.providers
            out.append(item)
        return out

    def prompt_budget(self, model: ModelInfo, max_tokens: int) -> int:
        """Tokens left for the prompt once the answer's ``max_tokens`` is reserved."""
        return model.context_window - self.output_tokens(model, max_tokens)

    def output_tokens(self, model: ModelInfo, max_tokens: int | None) -> int:
        requested = max_tokens or min(model.max_output_tokens, self.limits.max_tokens_per_request)
        if requested > self.limits.max_tokens_per_request:
            raise errors.LimitExceededError(
                f"max_tokens={requested} is over MAX_TOKENS_PER_REQUEST="
                f"{self.limits.max_tokens_per_request}",
                details={"max_tokens": requested, "limit": self.limits.max_tokens_per_request},
            )
        return min(requested, model.max_output_tokens, max(1, model.context_window // 2))

    # -- calls -------------------------------------------------------------------------

    async def chat(
        self,
        model: ModelInfo,
        messages: list[ChatMessage],
        *,
        max_tokens: int | None = None,
        temperature: float = 0.7,
        tools: tuple[ToolSpec, ...] = (),
        stop: tuple[str, ...] = (),
        grammar: str = "",
        attempt: int = 1,
        on_delta: DeltaCallback | None = None,
    ) -> ChatOutcome:
        out_tokens = self.output_tokens(model, max_tokens)
        prompt_tokens = self.counter.count_messages(messages)
        if prompt_tokens + out_tokens > model.context_window:
            raise errors.LimitExceededError(
                f"prompt of ~{prompt_tokens} tokens plus max_tokens={out_tokens} does not fit "
                f"{model.name}'s context window of {model.context_window}",
                code="CONTEXT_TOO_LARGE",
                details={"prompt_tokens": prompt_tokens, "context_window": model.context_window},
            )
        await self._take_rate(prompt_tokens + out_tokens)
        use_tools = tools if model.supports_tools else ()
        request = ChatRequest(
            model=model.api_model,
            messages=tuple(messages),
            max_tokens=out_tokens,
            temperature=temperature,
            tools=use_tools,
            stop=stop,
            timeout_s=self.limits.request_timeout_s,
            grammar=grammar if model.provider == "local" else "",
        )
        try:
            response = await self._call(model, request, on_delta)
            used, fallback = model, False
        except errors.RetryableError as exc:
            fb = self._fallback_for(model)
            if fb is None or attempt < self.limits.fallback_after_attempts:
                raise
            log.warning(
                "%s failed (%s) on attempt %d; falling back to %s",
                model.provider,
                exc.code,
                attempt,
                fb.name,
            )
            fb_request = replace(
                request,
                model=fb.api_model,
                tools=use_tools if fb.supports_tools else (),
                grammar=grammar if fb.provider == "local" else "",
                max_tokens=min(out_tokens, fb.max_output_tokens),
            )
            try:
                response = await self._call(fb, fb_request, on_delta)
            except errors.EnginEdgeError as fb_exc:
                raise errors.RetryableError(
                    f"{exc.message}; fallback {fb.name} also failed: {fb_exc.message}",
                    code=exc.code,
                    retry_after=exc.retry_after,
                    details={**exc.details, "fallback_error": fb_exc.code},
                ) from None
            used, fallback = fb, True
        cost = used.cost(response.prompt_tokens, response.completion_tokens)
        self.metrics.tokens(used.name, response.prompt_tokens, response.completion_tokens)
        self.metrics.cost(used.name, cost)
        return ChatOutcome(response, used, cost, fallback, prompt_tokens)

    def _fallback_for(self, model: ModelInfo) -> ModelInfo | None:
        if not self.fallback_model:
            return None
        fb = self.registry.get(self.fallback_model)
        if fb is None or fb.provider not in self.providers or fb.name == model.name:
            return None
        return fb

    async def _take_rate(self, tokens: int) -> None:
        rpm = await self.rate_limiter.acquire(
            "llm:requests", limit=self.limits.requests_per_minute, window_seconds=60
        )
        if not rpm.allowed:
            raise errors.RateLimitedError(
                f"over RATE_LIMIT_REQUESTS_PER_MINUTE={self.limits.requests_per_minute}",
                retry_after=rpm.retry_after,
                details={"limit": "requests_per_minute", "retry_after": rpm.retry_after},
            )
        units = max(1, math.ceil(tokens / TOKEN_UNIT))
        tpm = await self.rate_limiter.acquire(
            "llm:tokens",
            limit=max(1, self.limits.tokens_per_minute // TOKEN_UNIT),
            window_seconds=60,
            cost=units,
        )
        if not tpm.allowed:
            raise errors.RateLimitedError(
                f"~{tokens} tokens would exceed RATE_LIMIT_TOKENS_PER_MINUTE="
                f"{self.limits.tokens_per_minute}",
                retry_after=tpm.retry_after,
                details={"limit": "tokens_per_minute", "retry_after": tpm.retry_after},
            )

    async def _call(
        self, model: ModelInfo, request: ChatRequest, on_delta: DeltaCallback | None
    ) -> ChatResponse:
        provider = self.providers[model.provider]
        started = time.perf_counter()
        try:
            if on_delta is None:
                response = await provider.chat(request)
            else:
                response = await self._stream(provider, request, on_delta)
        except errors.EnginEdgeError:
            self.metrics.external_call(model.provider, error=True)
            raise
        except TimeoutError:
            self.metrics.external_call(model.provider, error=True)
            raise errors.RetryableError(
                f"{model.provider} did not answer within {request.timeout_s:g}s",
                code="PROVIDER_TIMEOUT",
            ) from None
        self.metrics.external_call(model.provider, error=False)
        log.debug("%s answered in %.0f ms", model.provider, (time.perf_counter() - started) * 1e3)
        return response

    async def _stream(
        self, provider: ChatProvider, request: ChatRequest, on_delta: DeltaCallback
    ) -> ChatResponse:
        parts: list[str] = []
        finish, prompt, completion = "stop", None, None
        async for chunk in provider.stream(request):
            if chunk.text:
                parts.append(chunk.text)
                on_delta(chunk.text)
            finish = chunk.finish_reason or finish
            prompt = chunk.prompt_tokens if chunk.prompt_tokens is not None else prompt
            completion = (
                chunk.completion_tokens if chunk.completion_tokens is not None else completion
            )
        text = "".join(parts)
        return ChatResponse(
            text=text,
            model=request.model,
            prompt_tokens=prompt
            if prompt is not None
            else self.counter.count_messages(list(request.messages)),
            completion_tokens=completion if completion is not None else self.counter.count(text),
            finish_reason=finish,
            provider=provider.name,
        )

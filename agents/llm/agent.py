"""Wiring only: the assistant worker's providers, memory table, tools and commands."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import faust

from agents.llm.anthropic_chat_provider import AnthropicChatProvider
from agents.llm.bus_tool_runner import BusToolRunner
from agents.llm.gateway import LlmGateway, LlmLimits, Metrics
from agents.llm.handlers import COMMANDS, MemoryDefaults
from agents.llm.huggingface_chat_provider import HuggingFaceChatProvider
from agents.llm.llamacpp_chat_provider import (
    LlamaCppChatProvider,
    local_model_available,
    local_runtime,
)
from agents.llm.llamaserver_chat_provider import LlamaServerChatProvider
from agents.llm.model_registry import LOCAL_MODEL, ModelRegistry
from agents.llm.openai_chat_provider import OpenAIChatProvider
from agents.llm.ports import ChatProvider
from agents.llm.settings import LlmSettings
from agents.llm.templates import TemplateLibrary
from agents.llm.tiktoken_token_counter import TiktokenTokenCounter
from enginedge_streams.container import Container
from enginedge_streams.errors import ConfigError, EnginEdgeError
from enginedge_streams.keyed_locks import KeyedLocks
from enginedge_streams.metrics import WorkerMetrics
from enginedge_streams.runtime import command_worker
from enginedge_streams.settings import load, secret_values
from tables.llm import FaustConversationStore, create_llm_table

WORKER_TYPE = "llm"


class PrometheusLlmMetrics(Metrics):
    def __init__(self, metrics: WorkerMetrics) -> None:
        self.m = metrics

    def external_call(self, api: str, *, error: bool = False) -> None:
        self.m.external_call(api, error=error)

    def tokens(self, model: str, prompt: int, completion: int) -> None:
        self.m.tokens.labels(self.m.worker_type, model, "prompt").inc(prompt)
        self.m.tokens.labels(self.m.worker_type, model, "completion").inc(completion)

    def cost(self, model: str, usd: float) -> None:
        self.m.cost.labels(self.m.worker_type, model).inc(usd)


def build_providers(s: LlmSettings) -> dict[str, ChatProvider]:
    timeout = s.llm_request_timeout_seconds
    providers: dict[str, ChatProvider] = {}
    for name in s.configured_providers():
        if name == "openai":
            providers[name] = OpenAIChatProvider(
                api_key=s.secret("openai_api_key"), base_url=s.openai_base_url, timeout_s=timeout
            )
        elif name == "anthropic":
            providers[name] = AnthropicChatProvider(
                api_key=s.secret("anthropic_api_key"),
                base_url=s.anthropic_base_url,
                timeout_s=timeout,
            )
        elif name == "huggingface":
            providers[name] = HuggingFaceChatProvider(
                api_key=s.secret("huggingface_api_key"),
                base_url=s.huggingface_base_url,
                timeout_s=timeout,
            )
        elif name == "openai_compatible":
            providers[name] = OpenAIChatProvider(
                name=name,
                api_key=s.secret("openai_compatible_api_key"),
                base_url=s.openai_compatible_base_url,
                timeout_s=timeout,
            )
        elif name == "local":
            providers[name] = _local_provider(s)
    return providers


def _local_provider(s: LlmSettings) -> ChatProvider:
    runtime, _ = local_runtime(s.local_model_runtime)
    if runtime == "python" or (runtime is None and s.local_model_runtime == "python"):
        return LlamaCppChatProvider(
            model_path=s.local_model_path or None,
            n_ctx=s.local_model_context,
            n_threads=s.local_model_threads,
        )
    return LlamaServerChatProvider(  # also when nothing is installed: /ready says what is missing
        cache_dir=Path(s.local_model_cache_dir) if s.local_model_cache_dir else None,
        model_path=s.local_model_path or None,
        path_model=s.default_model or LOCAL_MODEL,
        n_ctx=s.local_model_context,
        n_threads=s.local_model_threads,
        timeout_s=max(s.llm_request_timeout_seconds, 120.0),
    )


def register(app: faust.App, container: Container) -> Any:
    s = load(LlmSettings)
    container.redactor.add(*secret_values(s))
    providers: dict[str, ChatProvider] = container.provide(
        "llm_providers", lambda: build_providers(s)
    )
    for provider in providers.values():
        container.manage(provider)
    registry = ModelRegistry.from_config(s.llm_model_registry, local_context=s.local_model_context)
    counter = container.manage(container.provide("token_counter", TiktokenTokenCounter))
    gateway = LlmGateway(
        providers,
        registry,
        counter,
        container.rate_limiter(),
        LlmLimits(
            max_tokens_per_request=s.max_tokens_per_request,
            requests_per_minute=s.rate_limit_requests_per_minute,
            tokens_per_minute=s.rate_limit_tokens_per_minute,
            request_timeout_s=s.llm_request_timeout_seconds,
            fallback_after_attempts=s.llm_fallback_after_attempts,
        ),
        default_model=s.default_model,
        fallback_model=s.fallback_model(),
    )
    for setting, model in (
        ("DEFAULT_MODEL", s.default_model),
        ("LLM_FALLBACK_MODEL/PROVIDER", s.fallback_model()),
    ):
        if model:
            try:
                gateway.resolve(model)
            except EnginEdgeError as exc:
                raise ConfigError(f"{setting}: {exc.message}") from None
    table = create_llm_table(app, partitions=container.settings.topic_partitions)
    store = container.provide("conversation_store", lambda: FaustConversationStore(table))
    tools = container.provide(
        "tool_runner", lambda: BusToolRunner(container.bus(inbox=WORKER_TYPE))
    )
    container.redis()

    default = gateway.resolve(None)

    def local_ok() -> tuple[bool, str]:
        return local_model_available(
            default.name if default.provider == "local" else LOCAL_MODEL,
            preference=s.local_model_runtime,
            model_path=s.local_model_path,
        )

    async def providers_ready() -> tuple[bool, str]:
        detail = ", ".join(sorted(providers)) or "none"
        if "local" in providers:
            ok, why = local_ok()
            if default.provider == "local":
                if not ok:
                    return False, f"{detail}; local model: {why}"
                if warm.error:
                    return False, f"{detail}; local model {default.name}: {warm.error}"
                if not warm.done:
                    return False, f"{detail}; local model {default.name} is loading"
                return True, f"{detail}; local default {default.name} loaded ({why})"
        return bool(providers), detail

    container.add_readiness("providers", providers_ready)
    local = providers.get("local")
    warm = _WarmUp(local, default.name)
    if local is not None and default.provider == "local" and local_ok()[0]:
        container.manage(warm)
    else:
        warm.done = True
    runtime = command_worker(
        app,
        container,
        worker_type=WORKER_TYPE,
        commands=COMMANDS,
        dependencies={
            "gateway": gateway,
            "templates": TemplateLibrary.from_config(s.llm_prompt_templates),
            "store": store,
            "tools": tools,
            "locks": KeyedLocks(),
            "memory": MemoryDefaults(
                strategy=s.llm_memory_strategy,
                window_turns=s.llm_memory_window_turns,
                max_stored_bytes=s.llm_memory_max_bytes,
                summary_words=s.llm_summary_words,
                agent_tool_timeout_s=s.llm_agent_tool_timeout_seconds,
            ),
        },
    )
    gateway.metrics = PrometheusLlmMetrics(runtime.metrics)
    return runtime


class _WarmUp:
    """Loads the default local model when the worker starts, so the first command is not slow.

    It loads in the background: the worker joins its group meanwhile, and
    ``/ready`` says "loading" until the model answers (or why it failed).
    """

    def __init__(self, provider: ChatProvider | None, model: str) -> None:
        self.provider = provider
        self.model = model
        self.done = False
        self.error = ""
        self._task: asyncio.Task[None] | None = None

    async def _load(self) -> None:
        try:
            if isinstance(self.provider, (LlamaCppChatProvider, LlamaServerChatProvider)):
                await self.provider.warm_up(self.model)
        except EnginEdgeError as exc:
            self.error = exc.message
        except Exception as exc:  # reported by /ready, never raised into the worker
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.done = True

    async def start(self) -> None:
        self._task = asyncio.create_task(self._load())

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task

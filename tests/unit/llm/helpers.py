"""Builders for the assistant's unit tests: a gateway over fakes, a command context."""

from __future__ import annotations

from datetime import timedelta

from agents.llm.gateway import LlmGateway, LlmLimits
from agents.llm.model_registry import ModelRegistry
from agents.llm.tiktoken_token_counter import TiktokenTokenCounter
from enginedge_streams.handlers import CommandContext
from enginedge_streams.records import Command, utcnow
from enginedge_streams.testing.fakes import InMemoryRateLimiter

REGISTRY_JSON = """{
  "scripted-tools": {"provider": "openai", "context_window": 4096, "max_output_tokens": 512,
                     "input_cost_per_1k": 1.0, "output_cost_per_1k": 2.0, "supports_tools": true},
  "scripted-text": {"provider": "local", "context_window": 4096, "max_output_tokens": 512},
  "tiny": {"provider": "openai", "context_window": 300, "max_output_tokens": 64,
           "input_cost_per_1k": 1.0, "output_cost_per_1k": 1.0},
  "backup": {"provider": "anthropic", "context_window": 4096, "max_output_tokens": 512,
             "input_cost_per_1k": 0.5, "output_cost_per_1k": 0.5, "supports_tools": true}
}"""


def make_gateway(providers, *, limits: LlmLimits | None = None, **kw) -> LlmGateway:
    return LlmGateway(
        providers,
        ModelRegistry.from_config(REGISTRY_JSON),
        TiktokenTokenCounter(),
        InMemoryRateLimiter(),
        limits or LlmLimits(),
        **kw,
    )


def ctx_for(
    command_type: str = "assistant.chat",
    *,
    command_id: str = "cmd-1",
    attempt: int = 1,
    user_id: str | None = None,
) -> CommandContext:
    command = Command(command_id=command_id, command_type=command_type, user_id=user_id)
    return CommandContext(
        command=command,
        worker_type="llm",
        attempt=attempt,
        deadline=utcnow() + timedelta(seconds=60),
    )

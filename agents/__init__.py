"""Worker registry: WORKER_TYPE -> the module whose ``register(app, container)`` wires it.

Adding a worker is one package under ``agents/`` plus one line here.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from enginedge_streams.errors import ConfigError

REGISTRY: dict[str, str] = {
    "data_processing": "agents.data_processing.agent",
    "agent_tool": "agents.agent_tool.agent",
    "llm": "agents.llm.agent",
    "identity": "agents.identity.agent",
    "scheduling": "agents.scheduling.agent",
    "spacy": "agents.spacy.agent",
    "latex": "agents.latex.agent",
    "news": "agents.news.agent",
    "resume": "agents.resume.agent",
    "interview": "agents.interview.agent",
    "orchestrator": "agents.orchestrator.agent",
}


def load(worker_type: str, plugins: dict[str, str] | None = None) -> ModuleType:
    modules = {**REGISTRY, **(plugins or {})}
    try:
        path = modules[worker_type]
    except KeyError:
        known = ", ".join(sorted(modules)) or "none"
        raise ConfigError(
            f"WORKER_TYPE: unknown worker type {worker_type!r} (known: {known})"
        ) from None
    module = importlib.import_module(path)
    if not hasattr(module, "register"):
        raise ConfigError(f"worker module {path} has no register(app, container)")
    return module


def available(plugins: dict[str, str] | None = None) -> list[str]:
    return sorted({**REGISTRY, **(plugins or {})})


def worker_module(worker_type: str, name: str) -> ModuleType:
    """A worker's public module ``agents.<worker>.<name>`` (e.g. the orchestrator's
    ``offline`` tools for the CLI), found through the registry."""
    return importlib.import_module(REGISTRY[worker_type].rsplit(".", 1)[0] + "." + name)


def commands(worker_type: str) -> list[object]:
    """The worker's command specs (``agents.<worker>.handlers.COMMANDS``), without Faust."""
    path = REGISTRY[worker_type].rsplit(".", 1)[0] + ".handlers"
    return list(importlib.import_module(path).COMMANDS)


def worker_settings_classes(worker_type: str) -> list[type[Any]]:
    """The settings classes defined in one worker's ``agents.<worker>.settings`` module."""
    from enginedge_streams.settings import EnvSettings

    try:
        module = worker_module(worker_type, "settings")
    except ModuleNotFoundError:
        return []
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, EnvSettings)
        and value is not EnvSettings
        and value.__module__ == module.__name__
    ]


def settings_classes() -> list[type[Any]]:
    """Every worker's settings class (``agents.<worker>.settings``), for the docs."""
    return [cls for worker_type in REGISTRY for cls in worker_settings_classes(worker_type)]

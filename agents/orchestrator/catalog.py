"""The worker catalog from the worker registry (``agents.REGISTRY`` + WORKER_PLUGINS).

Commands are read from each worker's ``handlers.COMMANDS`` (plugins: the
module's ``COMMANDS``) the first time a workflow uses that worker, so the
orchestrator imports only the workers its workflows name.
"""

from __future__ import annotations

import importlib
import logging

from pydantic import BaseModel

import agents
from enginedge_streams.handlers import CommandSpec
from enginedge_streams.system import SYSTEM_COMMANDS

log = logging.getLogger("enginedge.orchestrator")

#: The orchestrator does not run workflows of itself (a step would not wait for the sub-workflow).
SELF = "orchestrator"


class RegistryWorkerCatalog:
    def __init__(self, plugins: dict[str, str] | None = None) -> None:
        self.plugins = dict(plugins or {})
        self._commands: dict[str, dict[str, type[BaseModel]] | None] = {}

    def worker_types(self) -> list[str]:
        return [t for t in agents.available(self.plugins) if t != SELF]

    def commands(self, worker_type: str) -> dict[str, type[BaseModel]] | None:
        if worker_type not in self._commands:
            self._commands[worker_type] = self._load(worker_type)
        return self._commands[worker_type]

    def _load(self, worker_type: str) -> dict[str, type[BaseModel]] | None:
        if worker_type not in self.plugins and worker_type not in agents.REGISTRY:
            return None
        try:
            if worker_type in self.plugins:
                specs = list(importlib.import_module(self.plugins[worker_type]).COMMANDS)
            else:
                specs = agents.commands(worker_type)
        except Exception as exc:  # a worker whose module cannot load here: don't check its commands
            log.warning("cannot list the commands of %s: %s", worker_type, exc)
            return None
        out = {s.command_type: s.payload_model for s in SYSTEM_COMMANDS}
        for spec in specs:
            if isinstance(spec, CommandSpec):
                out[spec.command_type] = spec.payload_model
        return out

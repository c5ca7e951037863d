"""The orchestrator's public face for tools that run without a broker (``enginedge workflow``).

The CLI reaches it through the worker registry (``agents.worker_module``), never
through the orchestrator's internals.
"""

from __future__ import annotations

from agents.orchestrator.catalog import RegistryWorkerCatalog
from agents.orchestrator.library import load_file, read_yaml
from agents.orchestrator.validation import WorkflowError

__all__ = ["RegistryWorkerCatalog", "WorkflowError", "load_file", "read_yaml"]

"""The worker types of the deployment guide and their default web ports."""

from __future__ import annotations

#: WORKER_TYPE -> default PORT, as in the deployment guide.
DEFAULT_PORTS: dict[str, int] = {
    "llm": 3001,
    "agent_tool": 3002,
    "data_processing": 3003,
    "interview": 3004,
    "latex": 3005,
    "resume": 3006,
    "scheduling": 3007,
    "identity": 3008,
    "news": 3009,
    "spacy": 8001,
    "orchestrator": 3000,
}

#: Human names used in logs, docs and the monitoring page.
DESCRIPTIONS: dict[str, str] = {
    "llm": "assistant worker",
    "agent_tool": "agent tool worker",
    "data_processing": "data processing worker",
    "interview": "interview worker",
    "latex": "LaTeX worker",
    "resume": "resume worker",
    "scheduling": "scheduling worker",
    "identity": "identity worker",
    "news": "news worker",
    "spacy": "spaCy NLP service",
    "orchestrator": "workflow orchestrator",
}


def default_port(worker_type: str) -> int:
    """The guide's port for a worker type (8000 for types outside the guide)."""
    return DEFAULT_PORTS.get(worker_type, 8000)

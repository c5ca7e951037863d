"""The spaCy service's HTTP routes (the same handlers as the bus commands)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from enginedge_streams.web.command_routes import install_command_routes

if TYPE_CHECKING:
    from enginedge_streams.runtime import WorkerRuntime

ROUTES = {
    "/analyze": "nlp.analyze",
    "/keywords": "nlp.keywords",
    "/similarity": "nlp.similarity",
    "/categorize-topic": "nlp.categorize_topic",
    "/analyze-speech": "nlp.analyze_speech",
}


def install_routes(runtime: WorkerRuntime) -> None:
    install_command_routes(runtime, ROUTES)

"""Wiring only: the spaCy worker's ports, commands and HTTP routes on a Faust app."""

from __future__ import annotations

from typing import Any

import faust

from agents.spacy.handlers import COMMANDS
from agents.spacy.http import install_routes
from agents.spacy.settings import SpacySettings
from agents.spacy.spacy_nlp import SpacyNlpEngine
from enginedge_streams.compute import shared_compute_pool
from enginedge_streams.container import Container
from enginedge_streams.runtime import command_worker
from enginedge_streams.settings import load

WORKER_TYPE = "spacy"


def register(app: faust.App, container: Container) -> Any:
    settings = load(SpacySettings)
    compute = shared_compute_pool(container, WORKER_TYPE)  # started first by the runtime
    nlp = container.manage(
        container.provide(
            "nlp",
            lambda: SpacyNlpEngine(
                settings.spacy_model,
                batch_size=settings.spacy_batch_size,
                batch_wait_ms=settings.spacy_batch_wait_ms,
                compute=compute,  # children load the pipeline; batches are killable there
            ),
        )
    )
    container.redis()  # readiness includes Redis, as for every worker

    async def model_loaded() -> tuple[bool, str]:
        return nlp.loaded(), f"{nlp.model_name} {'loaded' if nlp.loaded() else 'loading'}"

    container.add_readiness("model", model_loaded)
    runtime = command_worker(
        app,
        container,
        worker_type=WORKER_TYPE,
        commands=COMMANDS,
        dependencies={"nlp": nlp, "compute": compute},
    )
    install_routes(runtime)
    return runtime

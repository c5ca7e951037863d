"""Declarations only: the spaCy worker's NLP engine, commands and HTTP routes."""

from __future__ import annotations

import faust

from agents.spacy.handlers import COMMANDS
from agents.spacy.http import install_routes
from agents.spacy.settings import SpacySettings
from agents.spacy.spacy_nlp import SpacyNlpEngine
from enginedge_streams.compute import shared_compute_pool
from enginedge_streams.container import Container
from enginedge_streams.runtime import WorkerRuntime
from enginedge_streams.settings import load
from enginedge_streams.worker import Worker

WORKER_TYPE = "spacy"


def register(app: faust.App, container: Container) -> WorkerRuntime:
    settings = load(SpacySettings)
    worker = Worker(app, container, WORKER_TYPE)
    compute = shared_compute_pool(container)  # started first by the runtime
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
    runtime = worker.serve(COMMANDS, {"nlp": nlp, "compute": compute})
    install_routes(runtime)
    return runtime

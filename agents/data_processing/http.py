"""The data processing worker's HTTP routes (read-only commands, same handlers as the bus)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from enginedge_streams.web.command_routes import install_command_routes

if TYPE_CHECKING:
    from enginedge_streams.runtime import WorkerRuntime

ROUTES = {
    "/search": "document.search",
    "/embeddings": "embedding.generate",
    "/collections": "collection.list",
}


def install_routes(runtime: WorkerRuntime) -> None:
    install_command_routes(runtime, ROUTES)

"""The news worker's HTTP routes for its read commands (the same handlers as on the bus)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from enginedge_streams.web.command_routes import install_command_routes

if TYPE_CHECKING:
    from enginedge_streams.runtime import WorkerRuntime

ROUTES = {
    "/news/feed": "news.feed",
    "/news/search": "news.search",
    "/news/get": "news.get",
    "/news/trending": "news.trending",
    "/news/feeds": "feed.list",
}


def install_routes(runtime: WorkerRuntime) -> None:
    install_command_routes(runtime, ROUTES)

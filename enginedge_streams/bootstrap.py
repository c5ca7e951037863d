"""The composition root: settings -> container -> Faust app with its worker wired in.

``faust -A enginedge_streams worker`` reaches :func:`bootstrap` through the
package's lazy ``app`` attribute. Tests call it with ``overrides`` to swap any
dependency for a fake; nothing is monkeypatched.
"""

from __future__ import annotations

from typing import Any

import faust

import agents
from enginedge_streams.container import Container
from enginedge_streams.errors import ConfigError
from enginedge_streams.faust_app import create_app
from enginedge_streams.logs import REDACTOR
from enginedge_streams.settings import Settings, load, secret_values
from enginedge_streams.web.views import install_views


def worker_types(settings: Settings) -> list[str]:
    """WORKER_TYPE as a list (``all`` means every registered type)."""
    raw = settings.worker_type
    if not raw:
        raise ConfigError(
            "WORKER_TYPE is required: one of "
            + ", ".join(agents.available(settings.plugin_modules()))
            + ", a comma list, or all"
        )
    plugins = settings.plugin_modules()
    if raw == "all":
        return agents.available(plugins)
    types = [t.strip() for t in raw.split(",") if t.strip()]
    for t in types:
        agents.load(t, plugins)  # validates the name early, with a clear message
    return types


def bootstrap(
    settings: Settings | None = None,
    *,
    worker_type: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> faust.App:
    settings = settings or load(Settings)
    REDACTOR.add(*secret_values(settings))
    types = [worker_type] if worker_type else worker_types(settings)
    if len(types) > 1:
        from enginedge_streams.supervisor import supervisor_app

        return supervisor_app(settings, types)
    (wt,) = types
    module = agents.load(wt, settings.plugin_modules())
    container = Container(
        settings=settings,
        overrides=dict(overrides or {}),
        steps_module=module.__name__.rpartition(".")[0] + ".compute",
    )
    app = create_app(settings, wt)
    # Faust's /router/ pages answer 500 for an unknown table name and list table metadata;
    # off before any page (the worker's own routes included) creates app.web.
    app.conf.web_router_enabled = False
    module.register(app, container)
    for runtime in app.enginedge_runtimes.values():
        install_views(runtime)  # /health, /ready, /metrics, /commands, /monitor, /openapi.json
    return app

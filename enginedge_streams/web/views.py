"""Health, readiness, metrics, command status and HTTP submission for one worker."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
from faust import web
from pydantic import ValidationError as PydanticValidationError

from enginedge_streams.codec import encode_command, validation_details
from enginedge_streams.records import Command
from enginedge_streams.web.auth import bearer_ok
from enginedge_streams.web.monitor import install_monitor
from enginedge_streams.web.readiness import readiness

if TYPE_CHECKING:
    from enginedge_streams.runtime import WorkerRuntime

PROM_CONTENT_TYPE = "text/plain; version=0.0.4"


def install_views(runtime: WorkerRuntime) -> None:
    app = runtime.app
    settings = runtime.container.settings
    table = runtime.table
    # Faust's /router/ pages (500 for an unknown table name, found by schemathesis) are
    # switched off by the composition root before any page exists (bootstrap.py).
    install_monitor(runtime)  # GET /monitor and /monitor/data

    @app.page("/health")
    async def health(self: web.View, request: web.Request) -> web.Response:
        return self.json(
            {
                "status": "ok",
                "workerType": runtime.worker_type,
                "instanceId": runtime.info.instance_id,
                "version": runtime.info.version,
            }
        )

    @app.page("/ready")
    async def ready(self: web.View, request: web.Request) -> web.Response:
        ok, checks = await readiness(runtime)
        return self.json(
            {"ready": ok, "workerType": runtime.worker_type, "checks": checks},
            status=200 if ok else 503,
        )

    @app.page("/openapi.json")
    async def openapi(self: web.View, request: web.Request) -> web.Response:
        from enginedge_streams.web.openapi import build_openapi

        return self.json(build_openapi(runtime))

    @app.page("/metrics")
    async def metrics(self: web.View, request: web.Request) -> web.Response:
        return self.bytes(runtime.metrics.render(), content_type=PROM_CONTENT_TYPE)

    @app.page("/commands/{command_id}")
    @app.table_route(table=table, match_info="command_id")
    async def get_command(self: web.View, request: web.Request, command_id: str) -> web.Response:
        record = runtime.processor.lookup(command_id)
        if record is None:
            return self.json(
                {"error": {"code": "NOT_FOUND", "message": f"no command {command_id}"}},
                status=404,
            )
        view = record.view()
        bound = runtime.handlers.get(record.command.command_type)
        if bound is not None and bound.spec.sensitive and "result" in view:
            view["result"]["result"] = None  # tokens and the like go only to the results topic
            view["result"]["redacted"] = True
        return self.json(view)

    @app.page("/commands")
    class Commands(web.View):
        async def get(self, request: web.Request) -> web.Response:
            return self.json(
                {
                    "workerType": runtime.worker_type,
                    "commands": [
                        {
                            "command_type": spec.command_type,
                            "description": spec.description,
                            "payload_schema": spec.payload_model.model_json_schema(),
                        }
                        for spec in runtime.specs
                    ],
                }
            )

        async def post(self, request: web.Request) -> web.Response:
            if not bearer_ok(request.headers, settings.api_token):
                return self.json(
                    {
                        "error": {
                            "code": "UNAUTHORIZED",
                            "message": "a valid bearer token is required",
                        }
                    },
                    status=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            try:
                data = orjson.loads(await request.read())
                if not isinstance(data, dict):
                    raise TypeError("body must be a JSON object")
                command = Command.model_validate(data)
            except PydanticValidationError as exc:
                return self.json(
                    {
                        "error": {
                            "code": "INVALID_COMMAND",
                            "message": "invalid command",
                            **validation_details(exc),
                        }
                    },
                    status=400,
                )
            except (orjson.JSONDecodeError, TypeError) as exc:
                return self.json(
                    {"error": {"code": "INVALID_COMMAND", "message": str(exc)}}, status=400
                )
            delivery = await runtime.requests_topic.send(
                key=command.command_id.encode(), value=encode_command(command)
            )
            await delivery  # acknowledged by the broker before we answer 202
            return self.json(
                {
                    "command_id": command.command_id,
                    "status": "PENDING",
                    "status_url": f"/commands/{command.command_id}",
                },
                status=202,
            )

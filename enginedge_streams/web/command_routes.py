"""Expose read-only commands as synchronous HTTP routes calling the same handlers.

``POST /analyze`` with the payload as body returns what the ``nlp.analyze``
command's result would hold. Validation errors are 400 with field errors;
retryable failures 503; other failures 422 — never a 500 for bad input.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING

import orjson
from faust import web
from pydantic import ValidationError as PydanticValidationError

from enginedge_streams.codec import validation_details
from enginedge_streams.handlers import BoundHandler, CommandContext, to_jsonable
from enginedge_streams.policy import classify
from enginedge_streams.records import Command

if TYPE_CHECKING:
    from enginedge_streams.runtime import WorkerRuntime


def install_command_routes(runtime: WorkerRuntime, routes: Mapping[str, str]) -> None:
    """``POST <path>`` runs ``command_type``'s handler; recorded for ``/openapi.json``."""
    for path, command_type in routes.items():
        _install(runtime, path, runtime.handlers[command_type])
        runtime.command_routes[path] = command_type


def _install(runtime: WorkerRuntime, path: str, handler: BoundHandler) -> None:
    spec = handler.spec
    settings = runtime.container.settings

    class CommandRoute(web.View):
        async def post(self, request: web.Request) -> web.Response:
            try:
                body = orjson.loads(await request.read() or b"{}")
                payload = spec.payload_model.model_validate(body)
            except PydanticValidationError as exc:
                return self.json(
                    {
                        "error": {
                            "code": "INVALID_PAYLOAD",
                            "message": "invalid payload",
                            **validation_details(exc),
                        }
                    },
                    status=400,
                )
            except orjson.JSONDecodeError as exc:
                return self.json(
                    {"error": {"code": "INVALID_JSON", "message": str(exc)}}, status=400
                )
            command = Command(command_type=spec.command_type, payload=body)
            ctx = CommandContext(
                command=command,
                worker_type=runtime.worker_type,
                attempt=1,
                deadline=command.effective_deadline(settings.command_timeout_seconds),
            )
            try:
                value = await asyncio.wait_for(
                    handler(payload, ctx), timeout=settings.command_timeout_seconds
                )
            except Exception as exc:
                info = classify(exc)
                return self.json(
                    {"error": info.model_dump()}, status=503 if info.retryable else 422
                )
            return self.json(to_jsonable(value))

    CommandRoute.__name__ = f"route_{spec.command_type.replace('.', '_')}"
    runtime.app.page(path)(CommandRoute)

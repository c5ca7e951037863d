"""An OpenAPI 3.1 description of one worker's HTTP endpoints, generated from the code.

Served at ``GET /openapi.json``. The payload schemas come from the worker's
command specs (the same pydantic models that validate commands), the
synchronous command routes (``POST /analyze``...) from those the worker installed
(``runtime.command_routes``), and the path list from the live router,
so a route added without documentation still shows up (as a generic operation).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from enginedge_streams.records import Command, Result

if TYPE_CHECKING:
    from enginedge_streams.runtime import WorkerRuntime

REF = "#/components/schemas/{model}"
_ERROR = {"$ref": "#/components/schemas/ErrorBody"}
_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
_METHODS = ("get", "post", "put", "patch", "delete")


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "Invalid JSON or payload (field errors in `error.errors`)",
        401: "Missing or wrong bearer token",
        404: "Not found",
        413: "Body larger than the limit",
        422: "The command failed (a permanent error)",
        503: "Not ready, or a dependency is unavailable (retryable)",
    }
    return {str(c): _json(_ERROR, text[c]) for c in codes}


def _object(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


def _payload_schemas(runtime: WorkerRuntime) -> tuple[dict[str, Any], dict[str, Any]]:
    """{command_type: schema ref} and the components holding every payload model."""
    models: list[type[BaseModel]] = [Command, Result]
    models += [s.payload_model for s in runtime.specs]
    keyed, top = models_json_schema(
        [(m, "validation") for m in dict.fromkeys(models)], ref_template=REF
    )
    refs = {s.command_type: keyed[(s.payload_model, "validation")] for s in runtime.specs}
    components = dict(top.get("$defs", {}))
    return refs, components


def _platform_paths(runtime: WorkerRuntime, refs: dict[str, Any]) -> dict[str, Any]:
    command_body = {"$ref": REF.format(model="Command")}
    status = _object(
        command_id={"type": "string"},
        command_type={"type": "string"},
        correlation_id={"type": ["string", "null"]},
        worker_type={"type": "string"},
        status={"type": "string"},
        attempts={"type": "integer"},
        progress={"type": "object"},
        updated_at={"type": "string"},
        result={"$ref": REF.format(model="Result")},
    )
    return {
        "/health": {
            "get": {
                "summary": "Liveness: the process and its event loop answer",
                "responses": {"200": _json(_object(status={"type": "string"}), "Alive")},
            }
        },
        "/ready": {
            "get": {
                "summary": "Readiness: Kafka assignment, components and dependencies",
                "responses": {
                    "200": _json(_object(ready={"type": "boolean"}), "Ready"),
                    "503": _json(_object(ready={"type": "boolean"}), "Not ready (checks say why)"),
                },
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics (text exposition format 0.0.4)",
                "responses": {
                    "200": {
                        "description": "Metrics",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/commands": {
            "get": {
                "summary": "The worker's command types with their payload JSON Schemas",
                "responses": {"200": _json({"type": "object"}, "Command types")},
            },
            "post": {
                "summary": "Submit a command (bearer API_TOKEN); answered once Kafka has it",
                "security": _BEARER,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": command_body}},
                },
                "responses": {
                    "202": _json(
                        _object(
                            command_id={"type": "string"},
                            status={"type": "string"},
                            status_url={"type": "string"},
                        ),
                        "Accepted; poll `status_url`",
                    ),
                    **_errors(400, 401, 413),
                },
            },
        },
        "/commands/{command_id}": {
            "get": {
                "summary": "A command's status, attempts, progress and stored result",
                "parameters": [
                    {
                        "name": "command_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                    }
                ],
                "responses": {"200": _json(status, "The status record"), **_errors(404)},
            }
        },
        "/monitor": {
            "get": {
                "summary": "The monitoring page (HTML)",
                "parameters": [
                    {
                        "name": "refresh",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 60},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "HTML page",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/monitor/data": {
            "get": {
                "summary": "What the monitoring page shows, as JSON",
                "responses": {"200": _json({"type": "object"}, "Snapshot")},
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1 document")},
            }
        },
    }


def _route_operation(command_type: str, ref: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "post": {
            "summary": f"Run `{command_type}` synchronously (read-only; no token needed)",
            "description": description,
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref}}},
            "responses": {
                "200": _json({}, f"What the `{command_type}` result would hold"),
                **_errors(400, 413, 422, 503),
            },
        }
    }


#: Hand-written routes that take no command payload: (method, path) -> operation facts.
_KNOWN: dict[tuple[str, str], dict[str, Any]] = {
    ("get", "/.well-known/jwks.json"): {"summary": "Public signing keys (JWKS)"},
    ("get", "/artifacts/{artifact_id}"): {
        "summary": "A stored artifact (PDF...)",
        "responses": {
            "200": {"description": "The artifact", "content": {"application/pdf": {}}},
            **_errors(400, 404),
        },
    },
    ("post", "/orchestrate"): {
        "summary": "Start a workflow (bearer token; body = the workflow.start payload)",
        "security": _BEARER,
        "body": "workflow.start",
        "responses": {"202": _json({"type": "object"}, "Recorded"), **_errors(400, 401, 404)},
    },
    ("get", "/orchestrate/{request_id}"): {"summary": "A workflow request", "security": _BEARER},
    ("post", "/orchestrate/{request_id}/cancel"): {
        "summary": "Cancel a workflow request (bearer token)",
        "security": _BEARER,
    },
    ("get", "/workers"): {"summary": "Worker instances seen on the bus", "security": _BEARER},
    ("get", "/workflows"): {"summary": "Known workflows", "security": _BEARER},
}


def _live_routes(runtime: WorkerRuntime) -> Iterable[tuple[str, str]]:
    """(method, path) of every route on the running web server (none before it starts)."""
    try:
        web_app: Any = getattr(runtime.app.web, "web_app", None)  # the aiohttp driver's
        router = web_app.router
        routes = list(router.routes())
    except Exception:  # no web server (tests, `enginedge schemas`)
        return []
    out = []
    for route in routes:
        method = str(route.method).lower()
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter")
        if method in _METHODS and isinstance(path, str):
            out.append((method, re.sub(r"\{(\w+)(:[^}]*)?\}", r"{\1}", path)))
    return out


def _generic(method: str, path: str, facts: dict[str, Any], refs: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": facts.get("summary", f"{method.upper()} {path}")}
    params = re.findall(r"\{(\w+)\}", path)
    if params:
        op["parameters"] = [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
            for p in params
        ]
    if "security" in facts:
        op["security"] = facts["security"]
    if method in ("post", "put", "patch"):
        body = refs.get(facts.get("body", ""), {"type": "object"})
        op["requestBody"] = {"content": {"application/json": {"schema": body}}}
    op["responses"] = facts.get("responses") or {
        "200": {"description": "OK"},
        **(_errors(401) if "security" in facts else {}),
    }
    return op


def build_openapi(runtime: WorkerRuntime) -> dict[str, Any]:
    refs, components = _payload_schemas(runtime)
    paths = _platform_paths(runtime, refs)
    for path, command_type in runtime.command_routes.items():
        handler = runtime.handlers.get(command_type)
        if handler is not None:
            paths[path] = _route_operation(
                command_type, refs[command_type], handler.spec.description
            )
    for method, path in _live_routes(runtime):
        if method in paths.get(path, {}):
            continue
        facts = _KNOWN.get((method, path), {})
        paths.setdefault(path, {})[method] = _generic(method, path, facts, refs)
    for (method, path), facts in _KNOWN.items():  # documented even before the server starts
        if path in paths or not _installed_here(runtime, path):
            continue
        paths.setdefault(path, {})[method] = _generic(method, path, facts, refs)
    components["ErrorBody"] = _object(
        error=_object(
            code={"type": "string"},
            message={"type": "string"},
            retryable={"type": "boolean"},
            details={"type": "object"},
            errors={"type": "array"},
        )
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"EnginEdge Streams — {runtime.worker_type} worker",
            "version": runtime.info.version,
            "description": (
                "Health, readiness, metrics, command submission and status, and the "
                f"{runtime.worker_type} worker's own routes. Payload schemas are generated from "
                "the command specs; commands are also accepted on Kafka "
                f"(`{runtime.topics.requests}`)."
            ),
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _installed_here(runtime: WorkerRuntime, path: str) -> bool:
    owners = {
        "/.well-known/jwks.json": {"identity"},
        "/artifacts/{artifact_id}": {"latex", "interview"},
    }
    return runtime.worker_type in owners.get(path, {"orchestrator"})

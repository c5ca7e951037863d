"""The orchestrator's HTTP API on its own port (Faust web), authenticated.

* ``POST /orchestrate`` — body ``{"workflow": ..., "input": {...}}`` (the
  ``workflow.start`` payload; ``Idempotency-Key`` header accepted): sends a
  ``workflow.start`` command and answers **202** with the request id and its
  status URL once the request is recorded (``pending`` if that takes longer
  than ORCHESTRATE_WAIT_SECONDS); 4xx when the start is refused.
* ``GET /orchestrate/{id}`` — the request (routed to the partition owner).
* ``POST /orchestrate/{id}/cancel`` — sends ``workflow.cancel``.
* ``GET /workers`` (``?all=true`` for missing/stopped too), ``GET /workflows``.

A view never writes a table: starts and cancels go through the command topic.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import orjson
from faust import web
from pydantic import ValidationError as PydanticValidationError

from agents.orchestrator.messages import CancelWorkflow, StartWorkflow
from agents.orchestrator.ports import Authenticator, Principal, Unauthorized
from agents.orchestrator.service import OrchestratorService
from agents.orchestrator.settings import OrchestratorSettings
from enginedge_streams.codec import encode_command, validation_details
from enginedge_streams.errors import NotFoundError
from enginedge_streams.records import Command, StatusRecord, new_id

if TYPE_CHECKING:
    from enginedge_streams.runtime import WorkerRuntime

STATUS_BY_CODE = {
    "INVALID_PAYLOAD": 400,
    "INVALID_WORKFLOW": 400,
    "INVALID_INPUT": 400,
    "UNKNOWN_WORKFLOW": 404,
    "UNKNOWN_REQUEST": 404,
    "INLINE_WORKFLOWS_DISABLED": 403,
    "IDEMPOTENCY_KEY_REUSED": 409,
    "LIMIT_EXCEEDED": 413,
}
_REQUEST_ID_MAX = 100


def _error(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def install_routes(
    runtime: WorkerRuntime,
    *,
    service: OrchestratorService,
    auth: Authenticator,
    settings: OrchestratorSettings,
) -> None:
    app = runtime.app
    table = service.requests.table  # type: ignore[attr-defined]  # the Faust adapter

    async def principal(request: web.Request) -> Principal | str:
        """The caller, or why not (answered 401 by ``unauthorized``)."""
        try:
            return await auth.authenticate(request.headers.get("Authorization") or "")
        except Unauthorized as exc:
            return exc.message

    def unauthorized(view: web.View, message: str) -> web.Response:
        return view.json(
            _error("UNAUTHORIZED", message), status=401, headers={"WWW-Authenticate": "Bearer"}
        )

    async def submit(command: Command) -> None:
        delivery = await runtime.requests_topic.send(
            key=command.command_id.encode(), value=encode_command(command)
        )
        await delivery  # acknowledged by the broker

    async def outcome(command_id: str, wait_s: float) -> StatusRecord | None:
        deadline = time.monotonic() + wait_s
        while True:
            record = runtime.store.get(command_id)
            if record is not None and record.status.terminal:
                return record
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(0.02)

    def refused(view: web.View, record: StatusRecord) -> web.Response:
        err = record.result.error if record.result is not None else None
        code = err.code if err is not None else "FAILED"
        body = err.model_dump() if err is not None else {"code": code, "message": "failed"}
        return view.json({"error": body}, status=STATUS_BY_CODE.get(code, 422))

    @app.page("/orchestrate")
    class Orchestrate(web.View):
        async def post(self, request: web.Request) -> web.Response:
            who = await principal(request)
            if isinstance(who, str):
                return unauthorized(self, who)
            try:
                body = orjson.loads(await request.read() or b"{}")
                if not isinstance(body, dict):
                    raise TypeError("the body must be a JSON object")
                key = request.headers.get("Idempotency-Key")
                if key and "idempotency_key" not in body:
                    body["idempotency_key"] = key
                start = StartWorkflow.model_validate(body)
            except PydanticValidationError as exc:
                return self.json(
                    _error("INVALID_PAYLOAD", "invalid request", **validation_details(exc)),
                    status=400,
                )
            except (orjson.JSONDecodeError, TypeError) as exc:
                return self.json(_error("INVALID_JSON", str(exc)), status=400)
            command = Command(
                command_id=new_id(),
                command_type="workflow.start",
                payload=start.model_dump(mode="json", exclude_none=True),
                user_id=who.user_id,
                tenant_id=who.tenant_id,
            )
            rid = service.request_id_for(
                idempotency_key=start.idempotency_key,
                command_id=command.command_id,
                user_id=who.user_id,
                tenant_id=who.tenant_id,
            )
            await submit(command)
            record = await outcome(command.command_id, settings.orchestrate_wait_seconds)
            if record is not None and record.status.value != "COMPLETED":
                return refused(self, record)
            view: dict[str, Any] = {"request_id": rid, "status": "pending"}
            if record is not None and record.result is not None:
                view = dict(record.result.result or view)
            view["status_url"] = f"/orchestrate/{rid}"
            view["command_id"] = command.command_id
            return self.json(view, status=202, headers={"Location": f"/orchestrate/{rid}"})

    @app.page("/orchestrate/{request_id}")
    @app.table_route(table=table, match_info="request_id")
    async def get_request(self: web.View, request: web.Request, request_id: str) -> web.Response:
        who = await principal(request)
        if isinstance(who, str):
            return unauthorized(self, who)
        if len(request_id) > _REQUEST_ID_MAX:
            return self.json(_error("UNKNOWN_REQUEST", "no such request"), status=404)
        results = request.query.get("results", "true").lower() != "false"
        include_input = request.query.get("input", "false").lower() == "true"
        try:
            data = service.get(
                request_id, user_id=who.user_id, results=results, include_input=include_input
            )
        except NotFoundError as exc:
            return self.json(_error(exc.code, exc.message), status=404)
        return self.json(data)

    @app.page("/orchestrate/{request_id}/cancel")
    class Cancel(web.View):
        async def post(self, request: web.Request, request_id: str) -> web.Response:
            who = await principal(request)
            if isinstance(who, str):
                return unauthorized(self, who)
            try:
                raw = orjson.loads(await request.read() or b"{}")
                body = raw if isinstance(raw, dict) else {}
                payload = CancelWorkflow(request_id=request_id, **body)
            except (PydanticValidationError, orjson.JSONDecodeError, TypeError) as exc:
                return self.json(_error("INVALID_PAYLOAD", str(exc)), status=400)
            command = Command(
                command_type="workflow.cancel",
                payload=payload.model_dump(mode="json"),
                user_id=who.user_id,
                tenant_id=who.tenant_id,
            )
            await submit(command)
            record = await outcome(command.command_id, settings.orchestrate_wait_seconds)
            if record is None:
                return self.json({"request_id": request_id, "cancel": "sent"}, status=202)
            if record.status.value != "COMPLETED":
                return refused(self, record)
            return self.json(record.result.result if record.result else {})

    @app.page("/workers")
    async def workers(self: web.View, request: web.Request) -> web.Response:
        who = await principal(request)
        if isinstance(who, str):
            return unauthorized(self, who)
        include_gone = request.query.get("all", "false").lower() == "true"
        rows = service.workers(include_gone=include_gone)
        live = sorted({r["worker_type"] for r in rows if r["state"] == "live"})
        return self.json({"instances": rows, "live_types": live})

    @app.page("/workflows")
    async def workflows(self: web.View, request: web.Request) -> web.Response:
        who = await principal(request)
        if isinstance(who, str):
            return unauthorized(self, who)
        return self.json(service.library.describe())

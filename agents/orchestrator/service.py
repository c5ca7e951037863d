"""The orchestrator's application layer: requests in a store, the engine, the worker registry.

Faust-free and synchronous: every method reads a record, lets the engine
decide, writes the record back and returns the effects (commands to send,
events to publish) for the caller to carry out *after* the write. The Faust
wiring calls these methods only from inside stream iteration (the command
agent, the replies agent, the drive agent, the worker.status agent), which
is where the table may be written; timers only ask :meth:`due` which
requests to send a tick for.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any

import orjson
from pydantic import ValidationError as PydanticValidationError

from agents.orchestrator.catalog import SELF
from agents.orchestrator.engine import Effect, Engine, Liveness, parse_command_id
from agents.orchestrator.expressions import ExpressionError, resolve
from agents.orchestrator.library import WorkflowLibrary
from agents.orchestrator.messages import StartWorkflow
from agents.orchestrator.model import WorkflowRequest
from agents.orchestrator.ports import WorkerCatalog
from agents.orchestrator.settings import OrchestratorSettings
from agents.orchestrator.validation import CompiledWorkflow
from enginedge_streams.adapters.system_clock import SystemClock
from enginedge_streams.errors import (
    LimitExceededError,
    NotFoundError,
    PermanentError,
    ValidationError,
)
from enginedge_streams.heartbeat import Heartbeat
from enginedge_streams.ports.clock import Clock
from enginedge_streams.ports.key_value_store import KeyValueStore
from enginedge_streams.records import Result
from enginedge_streams.worker_registry import InstanceRecord, WorkerRegistry

log = logging.getLogger("enginedge.orchestrator")
TICK_GUARD = timedelta(seconds=2)  # a tick was sent; don't send another before this


def request_id_for(
    *,
    idempotency_key: str | None,
    command_id: str,
    user_id: str | None = None,
    tenant_id: str | None = None,
) -> str:
    """Deterministic: the same idempotency key (per tenant and user) is the same request;
    without a key, the same start command (re-run after a crash) is the same request."""
    if idempotency_key:
        basis = f"key\0{tenant_id or ''}\0{user_id or ''}\0{idempotency_key}"
    else:
        basis = f"cmd\0{command_id}"
    return "wf-" + hashlib.sha256(basis.encode()).hexdigest()[:24]


class OrchestratorService:
    def __init__(
        self,
        *,
        library: WorkflowLibrary,
        catalog: WorkerCatalog,
        engine: Engine,
        requests: KeyValueStore,  # workflow requests by id (JSON; written in stream iteration)
        instances: KeyValueStore,  # the worker registry's instances by instance id (JSON)
        registry: WorkerRegistry,
        settings: OrchestratorSettings,
        clock: Clock | None = None,
    ) -> None:
        self.library = library
        self.catalog = catalog
        self.engine = engine
        self.requests = requests
        self.instances = instances
        self.registry = registry
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.wake: dict[str, datetime] = {}
        self.waiting: dict[str, set[str]] = {}
        self.finished: dict[str, datetime] = {}

    # -- start-up (reads only) -----------------------------------------------------------

    def recover(self) -> list[str]:
        """Load the registry and the request index from the tables; the unfinished requests."""
        records = []
        for iid, raw in self.instances.scan(""):
            try:
                records.append(InstanceRecord.model_validate_json(raw))
            except PydanticValidationError:
                log.warning("ignoring an unreadable worker instance %s", iid)
        self.registry.load(records)
        unfinished = []
        for rid, raw in self.requests.scan(""):
            try:
                req = WorkflowRequest.model_validate_json(raw)
            except PydanticValidationError:
                log.warning("ignoring an unreadable request %s", rid)
                continue
            self._index(req)
            if not req.status.terminal:
                unfinished.append(rid)
        return unfinished

    # -- commands --------------------------------------------------------------------------

    def start(
        self,
        cmd: StartWorkflow,
        *,
        command_id: str,
        user_id: str | None = None,
        tenant_id: str | None = None,
    ) -> tuple[dict[str, Any], list[Effect]]:
        now = self.clock.now()
        if cmd.definition is not None:
            if not self.settings.workflow_allow_inline:
                raise PermanentError(
                    "inline workflow definitions are disabled (WORKFLOW_ALLOW_INLINE=false)",
                    code="INLINE_WORKFLOWS_DISABLED",
                )
            wf = self.library.inline(cmd.definition)
        else:
            wf = self.library.get(cmd.workflow or "")
        size = len(orjson.dumps(cmd.input))
        if size > self.settings.workflow_max_input_bytes:
            raise LimitExceededError(
                f"the input is {size:,} bytes; WORKFLOW_MAX_INPUT_BYTES is "
                f"{self.settings.workflow_max_input_bytes:,}"
            )
        problems = wf.input_problems(cmd.input)
        if problems:
            raise ValidationError(
                f"invalid input for workflow {wf.name!r}: " + "; ".join(problems[:10]),
                code="INVALID_INPUT",
                details={"problems": problems},
            )
        digest = hashlib.sha256(
            orjson.dumps(
                {"wf": wf.digest, "input": cmd.input, "timeout": cmd.timeout_seconds},
                option=orjson.OPT_SORT_KEYS,
            )
        ).hexdigest()
        rid = request_id_for(
            idempotency_key=cmd.idempotency_key,
            command_id=command_id,
            user_id=user_id,
            tenant_id=tenant_id,
        )
        existing = self._load(rid)
        if existing is not None:
            if existing.input_digest != digest:
                raise PermanentError(
                    f"idempotency key {cmd.idempotency_key!r} was already used for request "
                    f"{rid} with a different workflow or input",
                    code="IDEMPOTENCY_KEY_REUSED",
                    details={"request_id": rid},
                )
            view = existing.view(results=False, include_input=False)
            view["existing"] = True
            return view, []
        targets = self._targets(wf, cmd.input, rid, user_id, tenant_id)
        timeout = (
            cmd.timeout_seconds
            or wf.definition.timeout_seconds
            or self.settings.workflow_timeout_seconds
        )
        req = self.engine.new_request(
            request_id=rid,
            workflow=wf,
            targets=targets,
            input=cmd.input,
            now=now,
            deadline=now + timedelta(seconds=timeout),
            idempotency_key=cmd.idempotency_key,
            input_digest=digest,
            user_id=user_id,
            tenant_id=tenant_id,
            start_command_id=command_id,
        )
        effects: list[Effect] = [self.engine.created(req, now)]
        effects += self.engine.advance(req, wf, now, self.liveness(now))
        effects = self._save(req, effects, now)
        view = req.view(results=False, include_input=False)
        view["existing"] = False
        return view, effects

    def get(
        self,
        request_id: str,
        *,
        user_id: str | None = None,
        results: bool = True,
        include_input: bool = False,
    ) -> dict[str, Any]:
        req = self._owned(request_id, user_id)
        return req.view(results=results, include_input=include_input)

    def cancel(
        self, request_id: str, reason: str, *, user_id: str | None = None
    ) -> tuple[dict[str, Any], list[Effect]]:
        req = self._owned(request_id, user_id)
        now = self.clock.now()
        effects = self.engine.cancel(req, reason, now)
        if effects:
            effects = self._save(req, effects, now)
        return req.view(results=False, include_input=False), effects

    def workers(
        self, *, include_gone: bool = False, worker_type: str | None = None
    ) -> list[dict[str, Any]]:
        rows = self.registry.view(self.clock.now(), include_gone=include_gone)
        return [r for r in rows if worker_type is None or r["worker_type"] == worker_type]

    def request_id_for(
        self,
        *,
        idempotency_key: str | None,
        command_id: str,
        user_id: str | None = None,
        tenant_id: str | None = None,
    ) -> str:
        return request_id_for(
            idempotency_key=idempotency_key,
            command_id=command_id,
            user_id=user_id,
            tenant_id=tenant_id,
        )

    # -- events from the bus -------------------------------------------------------------

    def on_result(self, result: Result) -> list[Effect]:
        parsed = parse_command_id(result.command_id)
        rid = parsed[0] if parsed is not None else result.correlation_id
        if not rid:
            return []
        req = self._load(rid)
        if req is None:
            return []
        now = self.clock.now()
        wf = self.library.snapshot(req.digest, req.definition)
        effects = self.engine.on_result(req, wf, result, now, self.liveness(now))
        if effects is None:
            return []
        return self._save(req, effects, now)

    def on_drive(self, request_id: str, kind: str) -> list[Effect]:
        req = self._load(request_id)
        if req is None:
            self._forget(request_id)
            return []
        now = self.clock.now()
        if kind == "purge":
            if (
                req.status.terminal
                and req.finished_at
                and req.finished_at < self._purge_before(now)
            ):
                self.requests.delete(request_id)
                self._forget(request_id)
            return []
        wf = self.library.snapshot(req.digest, req.definition)
        live = self.liveness(now)
        if kind == "resume":
            effects = self.engine.resume(req, wf, now, live)
        else:
            effects = self.engine.advance(req, wf, now, live)
        if any(not _is_dispatch_again(e) for e in effects):
            return self._save(req, effects, now)
        self._index(req)
        return effects

    def on_heartbeat(self, beat: Heartbeat) -> bool:
        """Record a heartbeat in the registry (and its table); forget long-gone instances."""
        now = self.clock.now()
        record = self.registry.observe(beat, now)
        if record is not None:
            self.instances.put(beat.instance_id, record.model_dump_json().encode())
        for iid in self.registry.expired(now):
            self.registry.forget(iid)
            self.instances.delete(iid)
        return record is not None

    # -- timers (no writes) ---------------------------------------------------------------

    def due(self, now: datetime | None = None) -> list[str]:
        """Requests to send a tick for: a deadline or retry is due, or a waited-for worker is
        live. Each is then left alone for a moment (the tick is on its way)."""
        now = now or self.clock.now()
        out = []
        for rid, at in list(self.wake.items()):
            if at <= now:
                out.append(rid)
                self.wake[rid] = now + TICK_GUARD
        if self.waiting:
            live = self.registry.live_types(now)
            for rid, types in list(self.waiting.items()):
                if types & live:
                    del self.waiting[rid]
                    if rid not in out:
                        out.append(rid)
        return out

    def purge_candidates(self, now: datetime | None = None) -> list[str]:
        before = self._purge_before(now or self.clock.now())
        return [rid for rid, at in self.finished.items() if at < before]

    def liveness(self, now: datetime) -> Liveness:
        return lambda worker_type: self.registry.why_not_live(worker_type, now)

    # -- internals -----------------------------------------------------------------------

    def _purge_before(self, now: datetime) -> datetime:
        return now - timedelta(hours=self.settings.workflow_retention_hours)

    def _owned(self, request_id: str, user_id: str | None) -> WorkflowRequest:
        req = self._load(request_id)
        if req is None or (user_id and req.user_id and req.user_id != user_id):
            raise NotFoundError(f"no workflow request {request_id}", code="UNKNOWN_REQUEST")
        return req

    def _load(self, request_id: str) -> WorkflowRequest | None:
        raw = self.requests.get(request_id)
        return None if raw is None else WorkflowRequest.model_validate_json(raw)

    def _save(self, req: WorkflowRequest, effects: list[Effect], now: datetime) -> list[Effect]:
        raw = req.model_dump_json().encode()
        limit = self.settings.workflow_max_request_bytes
        if len(raw) > limit:
            for step in req.steps.values():
                step.result = None
                for task in step.tasks:
                    task.result = None
            req.output = None
            effects = effects + self.engine.fail(
                req,
                now,
                "LIMIT_EXCEEDED",
                f"the request record grew to {len(raw):,} bytes (WORKFLOW_MAX_REQUEST_BYTES "
                f"{limit:,}); its results were dropped",
            )
            raw = req.model_dump_json().encode()
        self.requests.put(req.request_id, raw)
        self._index(req)
        return effects

    def _index(self, req: WorkflowRequest) -> None:
        rid = req.request_id
        if req.status.terminal:
            self.wake.pop(rid, None)
            self.waiting.pop(rid, None)
            self.finished[rid] = req.finished_at or req.updated_at
            return
        self.finished.pop(rid, None)
        at = self.engine.next_wake(req)
        if at is None:
            self.wake.pop(rid, None)
        else:
            self.wake[rid] = at
        types = self.engine.waiting_types(req)
        if types:
            self.waiting[rid] = types
        else:
            self.waiting.pop(rid, None)

    def _forget(self, rid: str) -> None:
        self.wake.pop(rid, None)
        self.waiting.pop(rid, None)
        self.finished.pop(rid, None)

    def _targets(
        self,
        wf: CompiledWorkflow,
        input: dict[str, Any],
        rid: str,
        user_id: str | None,
        tenant_id: str | None,
    ) -> dict[str, tuple[str, str]]:
        """Each step's (worker type, command type); `$ref` targets resolved from the input."""
        ctx = {
            "input": input,
            "request": {
                "id": rid,
                "workflow": wf.name,
                "user_id": user_id,
                "tenant_id": tenant_id,
            },
        }
        out: dict[str, tuple[str, str]] = {}
        problems: list[str] = []
        types = set(self.catalog.worker_types())
        for sid in wf.order:
            spec = wf.steps[sid].spec
            names = []
            for label, value in (("worker", spec.worker), ("command", spec.command)):
                if isinstance(value, str):
                    names.append(value)
                    continue
                try:
                    got = resolve(value, ctx, f"steps.{sid}.{label}")
                except ExpressionError as exc:
                    problems.append(str(exc))
                    got = None
                if not isinstance(got, str) or not got:
                    problems.append(
                        f"steps.{sid}.{label}: {value.get('$ref')!r} must give a {label} name, "
                        f"got {got!r}"
                    )
                names.append(got if isinstance(got, str) else "")
            worker, command = names
            if (
                worker
                and not isinstance(spec.worker, str)
                and (worker == SELF or worker not in types)
            ):
                problems.append(
                    f"steps.{sid}.worker: unknown worker type {worker!r} "
                    f"(known: {', '.join(sorted(types))})"
                )
            if (
                worker
                and command
                and not (isinstance(spec.worker, str) and isinstance(spec.command, str))
            ):
                commands = self.catalog.commands(worker) if worker in types else None
                if commands is not None and command not in commands:
                    problems.append(
                        f"steps.{sid}.command: {worker} has no command {command!r} "
                        f"(known: {', '.join(sorted(commands))})"
                    )
            out[sid] = (worker, command)
        if problems:
            raise ValidationError(
                f"invalid input for workflow {wf.name!r}: " + "; ".join(problems),
                code="INVALID_INPUT",
                details={"problems": problems},
            )
        return out


def _is_dispatch_again(effect: Effect) -> bool:
    return getattr(effect, "again", False) is True

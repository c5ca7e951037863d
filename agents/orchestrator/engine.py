"""The DAG engine: pure decisions on a request record, no Faust and no I/O.

Every entry point mutates a :class:`WorkflowRequest` in place and returns the
effects to carry out (commands to send, events to publish). The caller
stores the record *before* carrying the effects out; every command id is
deterministic (``<request>.<step>.<item>.<attempt>``), so sending one again
after a crash is harmless: the worker runs a command id at most once and
re-publishes a finished one's result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from agents.orchestrator.expressions import ExpressionError, UnresolvedReferenceError, evaluate
from agents.orchestrator.expressions import compile_expression as _compile
from agents.orchestrator.expressions import resolve as _resolve
from agents.orchestrator.model import (
    RequestStatus,
    StepState,
    StepStatus,
    TaskState,
    WorkflowRequest,
)
from agents.orchestrator.validation import CompiledStep, CompiledWorkflow
from enginedge_streams.records import Command, Result, Status

#: worker type -> None when a live instance exists, else why not (shown on the step).
Liveness = Callable[[str], str | None]
MAX_KEPT_ERRORS = 5


@dataclass(frozen=True)
class Dispatch:
    worker_type: str
    command: Command
    again: bool = False  # re-sent after a restart (same command id)


@dataclass(frozen=True)
class Publish:
    event: dict[str, Any]


Effect = Dispatch | Publish


@dataclass
class _Pass:
    """One evaluation of a request: what every helper needs."""

    req: WorkflowRequest
    wf: CompiledWorkflow
    ctx: dict[str, Any]
    now: datetime
    out: list[Effect]


@dataclass(frozen=True)
class Limits:
    step_retries: int = 3
    backoff_s: float = 0.5
    backoff_max_s: float = 30.0
    step_timeout_s: float = 300.0
    max_fan_out: int = 200
    max_step_result_bytes: int = 256_000
    max_command_bytes: int = 1_000_000


def parse_command_id(command_id: str) -> tuple[str, str, int, int] | None:
    """``<request>.<step>.<index>.<attempt>`` -> its parts (None if not one of ours)."""
    parts = command_id.rsplit(".", 3)
    if len(parts) != 4 or not parts[2].isdigit() or not parts[3].isdigit():
        return None
    return parts[0], parts[1], int(parts[2]), int(parts[3])


def command_id_for(request_id: str, step_id: str, index: int, attempt: int) -> str:
    return f"{request_id}.{step_id}.{index}.{attempt}"


def json_size(value: Any) -> int:
    return len(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS))


class Engine:
    def __init__(self, limits: Limits, *, reply_to: str) -> None:
        self.limits = limits
        self.reply_to = reply_to

    # -- creation -----------------------------------------------------------------------

    def new_request(
        self,
        *,
        request_id: str,
        workflow: CompiledWorkflow,
        targets: dict[str, tuple[str, str]],
        input: dict[str, Any],
        now: datetime,
        deadline: datetime,
        idempotency_key: str | None = None,
        input_digest: str = "",
        user_id: str | None = None,
        tenant_id: str | None = None,
        start_command_id: str | None = None,
    ) -> WorkflowRequest:
        steps = {}
        for sid in workflow.order:
            spec = workflow.steps[sid].spec
            worker, command = targets[sid]
            steps[sid] = StepState(
                id=sid,
                worker_type=worker,
                command_type=command,
                optional=spec.optional,
                fan_out=spec.for_each is not None,
            )
        return WorkflowRequest(
            request_id=request_id,
            workflow=workflow.name,
            definition=workflow.definition.model_dump(mode="json"),
            digest=workflow.digest,
            input=input,
            idempotency_key=idempotency_key,
            input_digest=input_digest,
            user_id=user_id,
            tenant_id=tenant_id,
            steps=steps,
            created_at=now,
            updated_at=now,
            deadline=deadline,
            start_command_id=start_command_id,
        )

    # -- entry points -------------------------------------------------------------------

    def advance(
        self, req: WorkflowRequest, wf: CompiledWorkflow, now: datetime, live: Liveness
    ) -> list[Effect]:
        """Start whatever is ready, apply deadlines, finish steps and the request."""
        out: list[Effect] = []
        if req.status.terminal:
            return out
        if req.status is RequestStatus.PENDING:
            req.status = RequestStatus.RUNNING
            req.started_at = now
            out.append(self._event(req, now, "request.running"))
        if now >= req.deadline:
            out += self._finish(
                req,
                RequestStatus.TIMED_OUT,
                now,
                {
                    "code": "REQUEST_TIMED_OUT",
                    "message": f"the request's deadline {req.deadline.isoformat()} passed",
                },
            )
            return out
        p = _Pass(req, wf, self._context(req), now, out)
        for sid in wf.order:
            if self._evaluate_step(p, req.steps[sid], wf.steps[sid], live):
                return out
        if all(s.status.terminal for s in req.steps.values()):
            out += self._complete(req, wf, p.ctx, now)
        return out

    def _evaluate_step(self, p: _Pass, step: StepState, cs: CompiledStep, live: Liveness) -> bool:
        """Move one step on; True when its failure finished the request."""
        req = p.req
        if step.status.terminal:
            return False
        if step.ready_at is None:
            if not all(req.steps[d].status.terminal for d in cs.deps):
                return False
            self._make_ready(p, step, cs)
        if not step.status.terminal:
            if step.deadline is not None and p.now >= step.deadline:
                self._time_out_step(p, step)
            else:
                self._dispatch(p, step, cs, live)
                self._maybe_finish_step(p, step, cs)
        if not step.status.terminal:
            return False
        p.ctx["steps"][step.id] = step.context()
        if step.status is StepStatus.COMPLETED or step.optional:
            return False
        failed = (
            RequestStatus.TIMED_OUT if step.status is StepStatus.TIMED_OUT else RequestStatus.FAILED
        )
        error = dict(step.error or {"code": "STEP_FAILED", "message": "step failed"})
        error["step"] = step.id
        error["message"] = f"step {step.id!r} {step.status.value}: {error.get('message')}"
        p.out.extend(self._finish(req, failed, p.now, error))
        return True

    def on_result(
        self,
        req: WorkflowRequest,
        wf: CompiledWorkflow,
        result: Result,
        now: datetime,
        live: Liveness,
    ) -> list[Effect] | None:
        """Apply a step command's result; None when it changes nothing (late or duplicate)."""
        parsed = parse_command_id(result.command_id)
        if parsed is None or parsed[0] != req.request_id:
            return None
        _, sid, index, _ = parsed
        step = req.steps.get(sid)
        if step is None or req.status.terminal or step.status.terminal or index >= len(step.tasks):
            return None
        task = step.tasks[index]
        if task.command_id != result.command_id or task.status is not StepStatus.RUNNING:
            return None  # an earlier attempt's late result, or a duplicate
        if not result.status.terminal:
            return None
        out: list[Effect] = []
        task.started_at = result.started_at
        task.processing_ms = result.processing_ms
        if result.status is Status.COMPLETED:
            size = json_size(result.result)
            if size > self.limits.max_step_result_bytes:
                self._fail_task(
                    task,
                    now,
                    "RESULT_TOO_LARGE",
                    f"the result is {size:,} bytes; WORKFLOW_MAX_STEP_RESULT_BYTES is "
                    f"{self.limits.max_step_result_bytes:,}",
                )
            else:
                task.status = StepStatus.COMPLETED
                task.result = result.result
                task.finished_at = now
            if step.fan_out:
                out.append(self._step_event(req, step, now, "step.progress", task=task))
        else:
            error = (
                result.error.model_dump(mode="json")
                if result.error is not None
                else {"code": result.status.value, "message": f"command {result.status.value}"}
            )
            out += self._task_failed(req, wf, step, task, error=error, now=now)
        out += self.advance(req, wf, now, live)
        return out

    def created(self, req: WorkflowRequest, now: datetime) -> Publish:
        return self._event(req, now, "request.created")

    def fail(self, req: WorkflowRequest, now: datetime, code: str, message: str) -> list[Effect]:
        """Fail the request from outside the DAG (e.g. its record grew too large)."""
        error = {"code": code, "message": message, "retryable": False}
        if req.status.terminal:
            req.error = error
            return []
        return self._finish(req, RequestStatus.FAILED, now, error)

    def cancel(self, req: WorkflowRequest, reason: str, now: datetime) -> list[Effect]:
        if req.status.terminal:
            return []
        return self._finish(
            req, RequestStatus.CANCELLED, now, {"code": "CANCELLED", "message": reason}
        )

    def resume(
        self, req: WorkflowRequest, wf: CompiledWorkflow, now: datetime, live: Liveness
    ) -> list[Effect]:
        """After a restart: send the in-flight commands again (same ids), then advance."""
        out: list[Effect] = []
        if req.status.terminal:
            return out
        ctx = self._context(req)
        for sid in wf.order:
            step = req.steps[sid]
            for task in step.tasks:
                if task.status is StepStatus.RUNNING and task.command_id is not None:
                    try:
                        command = self._command(
                            req, step, wf.steps[sid], ctx, task=task, attempt=task.attempts
                        )
                    except ExpressionError:
                        continue  # it was built once; advance() reports any change
                    out.append(Dispatch(step.worker_type, command, again=True))
        out += self.advance(req, wf, now, live)
        return out

    # -- queries -------------------------------------------------------------------------

    @staticmethod
    def next_wake(req: WorkflowRequest) -> datetime | None:
        """When the request must be looked at again even if no result arrives."""
        if req.status.terminal:
            return None
        times = [req.deadline]
        for step in req.steps.values():
            if step.status.terminal or step.status is StepStatus.PENDING:
                continue
            if step.deadline is not None:
                times.append(step.deadline)
            times.extend(
                t.next_attempt_at
                for t in step.tasks
                if t.status is StepStatus.RETRYING and t.next_attempt_at is not None
            )
        return min(times)

    @staticmethod
    def waiting_types(req: WorkflowRequest) -> set[str]:
        if req.status.terminal:
            return set()
        return {s.worker_type for s in req.steps.values() if s.status is StepStatus.WAITING}

    # -- steps ---------------------------------------------------------------------------

    def _context(self, req: WorkflowRequest) -> dict[str, Any]:
        return {
            "input": req.input,
            "steps": {sid: s.context() for sid, s in req.steps.items() if s.status.terminal},
            "request": {
                "id": req.request_id,
                "workflow": req.workflow,
                "user_id": req.user_id,
                "tenant_id": req.tenant_id,
            },
        }

    def _make_ready(self, p: _Pass, step: StepState, cs: CompiledStep) -> None:
        req, wf, ctx, now, out = p.req, p.wf, p.ctx, p.now, p.out
        spec = cs.spec
        timeout = spec.timeout_seconds or wf.definition.defaults.timeout_seconds
        step.ready_at = now
        step.deadline = min(
            req.deadline, now + timedelta(seconds=timeout or self.limits.step_timeout_s)
        )
        count = 1
        if spec.for_each is not None:
            try:
                items = evaluate(_compile(spec.for_each), ctx)
            except ExpressionError as exc:
                self._fail_step(p, step, "EXPRESSION_ERROR", f"for_each: {exc}")
                return
            if not isinstance(items, list):
                self._fail_step(
                    p,
                    step,
                    "EXPRESSION_ERROR",
                    f"for_each {spec.for_each!r} gave {type(items).__name__}, not a list",
                )
                return
            if len(items) > self.limits.max_fan_out:
                self._fail_step(
                    p,
                    step,
                    "LIMIT_EXCEEDED",
                    f"for_each gave {len(items)} items; WORKFLOW_MAX_FAN_OUT is "
                    f"{self.limits.max_fan_out}",
                )
                return
            count = len(items)
        step.tasks = [TaskState(index=i if step.fan_out else None) for i in range(count)]
        out.append(self._step_event(req, step, now, "step.ready"))

    def _dispatch(self, p: _Pass, step: StepState, cs: CompiledStep, live: Liveness) -> None:
        req, ctx, now, out = p.req, p.ctx, p.now, p.out
        due = [
            t
            for t in step.tasks
            if t.status is StepStatus.PENDING
            or (
                t.status is StepStatus.RETRYING
                and (t.next_attempt_at is None or t.next_attempt_at <= now)
            )
        ]
        if not due:
            return
        reason = live(step.worker_type)
        if reason is not None:
            if step.status is not StepStatus.WAITING or step.reason != reason:
                step.status = StepStatus.WAITING
                step.reason = reason
                out.append(self._step_event(req, step, now, "step.waiting"))
            return
        if step.status is StepStatus.WAITING:
            step.reason = None
        limit = cs.spec.max_parallel or len(step.tasks)
        in_flight = sum(t.status is StepStatus.RUNNING for t in step.tasks)
        for task in due:
            if in_flight >= limit:
                break
            attempt = task.attempts + 1
            try:
                command = self._command(req, step, cs, ctx, task=task, attempt=attempt)
            except UnresolvedReferenceError as exc:
                self._fail_task(task, now, "REFERENCE_UNRESOLVED", str(exc))
                continue
            except ExpressionError as exc:
                self._fail_task(task, now, "EXPRESSION_ERROR", str(exc))
                continue
            size = len(command.model_dump_json(exclude_none=True))
            if size > self.limits.max_command_bytes:
                self._fail_task(
                    task,
                    now,
                    "PAYLOAD_TOO_LARGE",
                    f"the command would be {size:,} bytes (MAX_COMMAND_BYTES "
                    f"{self.limits.max_command_bytes:,})",
                )
                continue
            task.attempts = attempt
            task.command_id = command.command_id
            task.status = StepStatus.RUNNING
            task.dispatched_at = now
            task.first_dispatched_at = task.first_dispatched_at or now
            task.next_attempt_at = None
            in_flight += 1
            out.append(Dispatch(step.worker_type, command))
            out.append(self._step_event(req, step, now, "step.attempt", task=task))
        if in_flight and step.status is not StepStatus.RUNNING:
            step.status = StepStatus.RUNNING
            step.reason = None
            out.append(self._step_event(req, step, now, "step.running"))

    def _command(
        self,
        req: WorkflowRequest,
        step: StepState,
        cs: CompiledStep,
        ctx: dict[str, Any],
        *,
        task: TaskState,
        attempt: int,
    ) -> Command:
        local = ctx
        index = task.index or 0
        if step.fan_out:
            items = evaluate(_compile(cs.spec.for_each or "[]"), ctx) or []
            local = {**ctx, "item": items[index] if index < len(items) else None, "index": index}
        payload = _resolve(cs.spec.payload, local, "payload")
        if not isinstance(payload, dict):
            raise ExpressionError(
                f"the payload resolved to {type(payload).__name__}, not an object"
            )
        deadline = min(step.deadline or req.deadline, req.deadline)
        return Command(
            command_id=command_id_for(req.request_id, step.id, index, attempt),
            command_type=step.command_type,
            payload=payload,
            correlation_id=req.request_id,
            reply_to=self.reply_to,
            deadline=deadline,
            attempt=attempt,
            user_id=req.user_id,
            tenant_id=req.tenant_id,
        )

    def _task_failed(
        self,
        req: WorkflowRequest,
        wf: CompiledWorkflow,
        step: StepState,
        task: TaskState,
        *,
        error: dict[str, Any],
        now: datetime,
    ) -> list[Effect]:
        task.errors = [*task.errors, {"attempt": task.attempts, **_brief(error)}][-MAX_KEPT_ERRORS:]
        retries = self._retries(wf, step.id)
        if error.get("code") == "DEADLINE_EXCEEDED":
            task.status = StepStatus.TIMED_OUT
            task.error = error
            task.finished_at = now
        elif error.get("retryable") and task.attempts <= retries:
            delay = min(
                self.limits.backoff_max_s, self.limits.backoff_s * (2 ** (task.attempts - 1))
            )
            due = now + timedelta(seconds=delay)
            if step.deadline is not None and due >= step.deadline:
                task.status = StepStatus.FAILED
                task.error = {**error, "retries_left_but_no_time": True}
                task.finished_at = now
            else:
                task.status = StepStatus.RETRYING
                task.next_attempt_at = due
                step.status = StepStatus.RETRYING if not _any_running(step) else step.status
                return [self._step_event(req, step, now, "step.retrying", task=task, error=error)]
        else:
            task.status = StepStatus.FAILED
            task.error = error
            task.finished_at = now
        if step.fan_out:
            return [self._step_event(req, step, now, "step.progress", task=task)]
        return []

    def _retries(self, wf: CompiledWorkflow, step_id: str) -> int:
        spec = wf.steps[step_id].spec
        for value in (spec.retries, wf.definition.defaults.retries):
            if value is not None:
                return value
        return self.limits.step_retries

    @staticmethod
    def _fail_task(task: TaskState, now: datetime, code: str, message: str) -> None:
        task.status = StepStatus.FAILED
        task.error = {"code": code, "message": message, "retryable": False}
        task.finished_at = now

    def _fail_step(self, p: _Pass, step: StepState, code: str, message: str) -> None:
        req, now, out = p.req, p.now, p.out
        step.status = StepStatus.FAILED
        step.error = {"code": code, "message": message, "retryable": False}
        step.finished_at = now
        out.append(self._step_event(req, step, now, "step.failed"))

    def _time_out_step(self, p: _Pass, step: StepState) -> None:
        req, now, out = p.req, p.now, p.out
        for task in step.tasks:
            if not task.status.terminal:
                task.status = StepStatus.TIMED_OUT
                task.finished_at = now
        why = f" while {step.reason}" if step.status is StepStatus.WAITING and step.reason else ""
        step.status = StepStatus.TIMED_OUT
        step.error = {
            "code": "STEP_TIMED_OUT",
            "message": f"the step's deadline {step.deadline.isoformat() if step.deadline else '?'}"
            f" passed{why}",
            "retryable": False,
        }
        step.finished_at = now
        out.append(self._step_event(req, step, now, "step.timed_out"))

    def _maybe_finish_step(self, p: _Pass, step: StepState, cs: CompiledStep) -> None:
        req, ctx, now, out = p.req, p.ctx, p.now, p.out
        if not all(t.status.terminal for t in step.tasks):
            return
        step.finished_at = now
        step.reason = None
        if not step.fan_out:
            task = step.tasks[0]
            step.status = task.status
            step.result = task.result
            step.error = task.error
        else:
            failed = [t for t in step.tasks if t.status is not StepStatus.COMPLETED]
            if failed and cs.spec.on_item_error == "fail":
                first = failed[0]
                step.status = (
                    StepStatus.TIMED_OUT
                    if first.status is StepStatus.TIMED_OUT
                    else StepStatus.FAILED
                )
                err = dict(first.error or {"code": "ITEM_FAILED", "message": "an item failed"})
                err["message"] = f"item {first.index}: {err.get('message')}"
                err["item"] = first.index
                err["failed_items"] = len(failed)
                step.error = err
            else:
                results = [
                    t.result if t.status is StepStatus.COMPLETED else None for t in step.tasks
                ]
                try:
                    items = evaluate(_compile(cs.spec.for_each or "[]"), ctx)
                    scope = {**ctx, "results": results, "items": items}
                    value = evaluate(_compile(cs.spec.aggregate or "results"), scope)
                except ExpressionError as exc:
                    step.status = StepStatus.FAILED
                    step.error = {"code": "EXPRESSION_ERROR", "message": f"aggregate: {exc}"}
                else:
                    size = json_size(value)
                    if size > self.limits.max_step_result_bytes:
                        step.status = StepStatus.FAILED
                        step.error = {
                            "code": "RESULT_TOO_LARGE",
                            "message": f"the aggregate is {size:,} bytes; "
                            f"WORKFLOW_MAX_STEP_RESULT_BYTES is "
                            f"{self.limits.max_step_result_bytes:,}",
                        }
                    else:
                        step.status = StepStatus.COMPLETED
                        step.result = value
                        if failed:
                            step.error = {
                                "code": "ITEMS_SKIPPED",
                                "message": f"{len(failed)} of {len(step.tasks)} items failed "
                                "and were left out",
                                "items": [t.index for t in failed],
                            }
        out.append(self._step_event(req, step, now, f"step.{step.status.value}"))

    # -- the request ---------------------------------------------------------------------

    def _complete(
        self, req: WorkflowRequest, wf: CompiledWorkflow, ctx: dict[str, Any], now: datetime
    ) -> list[Effect]:
        try:
            if wf.definition.output is not None:
                output = _resolve(wf.definition.output, ctx, "output")
            else:
                output = {sid: req.steps[sid].result for sid in wf.sinks}
        except ExpressionError as exc:
            return self._finish(
                req, RequestStatus.FAILED, now, {"code": "OUTPUT_ERROR", "message": str(exc)}
            )
        req.output = output
        return self._finish(req, RequestStatus.COMPLETED, now, None)

    def _finish(
        self,
        req: WorkflowRequest,
        status: RequestStatus,
        now: datetime,
        error: dict[str, Any] | None,
    ) -> list[Effect]:
        out: list[Effect] = []
        for step in req.steps.values():
            if step.status.terminal:
                continue
            for task in step.tasks:
                if not task.status.terminal:
                    task.status = StepStatus.CANCELLED
                    task.finished_at = now
            step.status = StepStatus.CANCELLED
            step.reason = f"the request {status.value}"
            step.finished_at = now
            out.append(self._step_event(req, step, now, "step.cancelled"))
        req.status = status
        req.error = error
        req.finished_at = now
        req.updated_at = now
        out.append(self._event(req, now, f"request.{status.value}", error=error))
        return out

    # -- events --------------------------------------------------------------------------

    def _event(self, req: WorkflowRequest, now: datetime, name: str, **fields: Any) -> Publish:
        req.seq += 1
        req.updated_at = now
        event = {
            "event": name,
            "request_id": req.request_id,
            "workflow": req.workflow,
            "request_status": req.status.value,
            "seq": req.seq,
            "at": now.isoformat(),
        }
        event.update({k: v for k, v in fields.items() if v is not None})
        return Publish(event)

    def _step_event(
        self,
        req: WorkflowRequest,
        step: StepState,
        now: datetime,
        name: str,
        *,
        task: TaskState | None = None,
        error: dict[str, Any] | None = None,
    ) -> Publish:
        fields: dict[str, Any] = {
            "step": step.id,
            "step_status": step.status.value,
            "worker_type": step.worker_type,
            "command_type": step.command_type,
            "attempts": step.attempts,
            "reason": step.reason,
            "error": _brief(error or step.error) if (error or step.error) else None,
        }
        if task is not None:
            fields["command_id"] = task.command_id
            fields["attempt"] = task.attempts
            if task.index is not None:
                fields["index"] = task.index
            if task.next_attempt_at is not None:
                fields["next_attempt_at"] = task.next_attempt_at.isoformat()
        if step.fan_out and step.tasks:
            done = sum(t.status.terminal for t in step.tasks)
            fields["items"] = {"total": len(step.tasks), "done": done}
        return self._event(req, now, name, **fields)


def _any_running(step: StepState) -> bool:
    return any(t.status is StepStatus.RUNNING for t in step.tasks)


def _brief(error: dict[str, Any] | None) -> dict[str, Any]:
    if not error:
        return {}
    return {
        "code": error.get("code"),
        "message": str(error.get("message", ""))[:500],
        "retryable": bool(error.get("retryable", False)),
    }

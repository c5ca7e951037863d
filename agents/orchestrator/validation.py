"""Workflow validation: the format, the workers and commands, the references, the DAG.

``compile_workflow(data, catalog)`` returns a :class:`CompiledWorkflow` or
raises :class:`WorkflowError` listing *every* problem found, each starting
with where it is (``steps[2] (render).command: ...``).
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from agents.orchestrator.catalog import SELF
from agents.orchestrator.definition import STEP_FIELDS, StepDef, WorkflowDef
from agents.orchestrator.expressions import (
    ExpressionError,
    Reference,
    compile_expression,
    references,
    relative_paths,
    root_paths,
)
from agents.orchestrator.ports import WorkerCatalog
from enginedge_streams.errors import ValidationError

PAYLOAD_ROOTS = ("input", "steps", "request")
FAN_OUT_ROOTS = ("item", "index")
AGGREGATE_ROOTS = ("results", "items", "input", "steps", "request")
DYNAMIC_ROOTS = ("input", "request")


class WorkflowError(ValidationError):
    """A workflow definition that cannot run; ``problems`` says where and why."""

    code = "INVALID_WORKFLOW"

    def __init__(self, problems: list[str], *, source: str = "") -> None:
        head = f"{source}: " if source else ""
        shown = "; ".join(problems[:10]) + (
            f" (+{len(problems) - 10} more)" if len(problems) > 10 else ""
        )
        super().__init__(
            f"{head}invalid workflow: {shown}",
            details={"problems": problems, **({"source": source} if source else {})},
        )
        self.problems = problems
        self.source = source


@dataclass(frozen=True)
class CompiledStep:
    spec: StepDef
    deps: frozenset[str]

    @property
    def id(self) -> str:
        return self.spec.id


@dataclass(frozen=True)
class CompiledWorkflow:
    definition: WorkflowDef
    order: tuple[str, ...]
    steps: dict[str, CompiledStep]
    sinks: tuple[str, ...]
    digest: str
    source: str = ""
    _input_validator: Any = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.definition.name

    def input_problems(self, value: Any) -> list[str]:
        if self._input_validator is None:
            return []
        problems = []
        for err in sorted(self._input_validator.iter_errors(value), key=lambda e: list(e.path)):
            where = "input" + "".join(
                f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path
            )
            problems.append(f"{where}: {err.message}")
        return problems

    def describe(self) -> dict[str, Any]:
        d = self.definition
        return {
            "name": d.name,
            "description": d.description,
            "version": d.version,
            "source": self.source,
            "input_schema": d.input_schema,
            "steps": [
                {
                    "id": s,
                    "worker": self.steps[s].spec.worker,
                    "command": self.steps[s].spec.command,
                    "needs": sorted(self.steps[s].deps),
                    "fan_out": self.steps[s].spec.for_each is not None,
                    "optional": self.steps[s].spec.optional,
                }
                for s in self.order
            ],
        }


def compile_workflow(data: Any, catalog: WorkerCatalog, *, source: str = "") -> CompiledWorkflow:
    if not isinstance(data, dict):
        raise WorkflowError(
            [f"a workflow must be a mapping, got {type(data).__name__}"], source=source
        )
    try:
        wf = WorkflowDef.model_validate(data)
    except PydanticValidationError as exc:
        raise WorkflowError(_format_errors(exc, data), source=source) from None
    problems: list[str] = []
    ids = [s.id for s in wf.steps]
    seen: set[str] = set()
    for i, sid in enumerate(ids):
        if sid in seen:
            problems.append(f"steps[{i}] ({sid}).id: duplicate step id {sid!r}")
        seen.add(sid)
    known = set(ids)
    deps: dict[str, set[str]] = {}
    for i, step in enumerate(wf.steps):
        where = f"steps[{i}] ({step.id})"
        deps[step.id] = _check_step(step, where, known, catalog, problems)
    problems.extend(_check_output(wf.output, known))
    validator = None
    if wf.input_schema is not None:
        validator, schema_problem = _schema_validator(wf.input_schema)
        if schema_problem:
            problems.append(f"input_schema: {schema_problem}")
    order: list[str] = []
    if not problems:
        order, cycle = _topological(ids, deps)
        if cycle:
            problems.append("steps: dependency cycle " + " -> ".join(cycle))
    if problems:
        raise WorkflowError(problems, source=source)
    needed = {d for ds in deps.values() for d in ds}
    canonical = wf.model_dump(mode="json")
    digest = hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()[:16]
    return CompiledWorkflow(
        definition=wf,
        order=tuple(order),
        steps={s.id: CompiledStep(s, frozenset(deps[s.id])) for s in wf.steps},
        sinks=tuple(s for s in order if s not in needed),
        digest=digest,
        source=source,
        _input_validator=validator,
    )


# -- steps ------------------------------------------------------------------------------


@dataclass
class _Scope:
    """Where a step's checks report, and what they may refer to."""

    where: str
    step_id: str
    known: set[str]
    problems: list[str]

    def add(self, problem: str) -> None:
        self.problems.append(problem)


def _check_step(
    step: StepDef, where: str, known: set[str], catalog: WorkerCatalog, problems: list[str]
) -> set[str]:
    scope = _Scope(where, step.id, known, problems)
    deps = _check_needs(step, scope)
    payload_model = _check_worker_command(step, catalog, scope)
    fan_out = step.for_each is not None
    if not fan_out:
        for name in ("max_parallel", "aggregate"):
            if getattr(step, name) is not None:
                scope.add(f"{where}.{name}: only for a fan-out step (with for_each)")
        if step.on_item_error != "fail":
            scope.add(f"{where}.on_item_error: only for a fan-out step (with for_each)")
    roots = PAYLOAD_ROOTS + (FAN_OUT_ROOTS if fan_out else ())
    try:
        refs = list(references(step.payload, "payload"))
    except ExpressionError as exc:
        scope.add(f"{where}.{exc}")
        refs = []
    for ref in refs:
        deps |= _check_ref(ref, roots, scope)
    if fan_out:
        deps |= _check_expression(step.for_each, "for_each", PAYLOAD_ROOTS, scope)
    if step.aggregate is not None:
        deps |= _check_expression(step.aggregate, "aggregate", AGGREGATE_ROOTS, scope)
    if payload_model is not None:
        problems.extend(_check_payload_fields(step.payload, payload_model, f"{where}.payload"))
    return deps


def _check_needs(step: StepDef, scope: _Scope) -> set[str]:
    deps: set[str] = set()
    for dep in step.needs:
        if dep == step.id:
            scope.add(f"{scope.where}.needs: a step cannot need itself")
        elif dep not in scope.known:
            scope.add(f"{scope.where}.needs: unknown step {dep!r}{_suggest(dep, scope.known)}")
        else:
            deps.add(dep)
    return deps


def _check_worker_command(
    step: StepDef, catalog: WorkerCatalog, scope: _Scope
) -> type[BaseModel] | None:
    """The worker type and command exist; the command's payload model when known."""
    where = scope.where
    worker = _check_target(step.worker, f"{where}.worker", scope.problems)
    command = _check_target(step.command, f"{where}.command", scope.problems)
    if worker is None:
        return None
    types = catalog.worker_types()
    if worker == SELF:
        scope.add(f"{where}.worker: a workflow cannot call the orchestrator itself")
        return None
    if worker not in types:
        scope.add(
            f"{where}.worker: unknown worker type {worker!r}{_suggest(worker, types)} "
            f"(known: {', '.join(sorted(types))})"
        )
        return None
    commands = catalog.commands(worker) if command is not None else None
    if commands is None or command is None:
        return None
    if command not in commands:
        scope.add(
            f"{where}.command: {worker} has no command {command!r}"
            f"{_suggest(command, commands)} (known: {', '.join(sorted(commands))})"
        )
        return None
    return commands[command]


def _check_target(value: str | dict[str, Any], where: str, problems: list[str]) -> str | None:
    """A static worker/command name, or None when it is a $ref into the input (checked later)."""
    if isinstance(value, str):
        if not value.strip():
            problems.append(f"{where}: must not be empty")
        return value
    if set(value) != {"$ref"}:
        problems.append(f"{where}: a name, or {{$ref: <expression on input>}}")
        return None
    try:
        refs = list(references(value, where))
    except ExpressionError as exc:
        problems.append(str(exc))
        return None
    for ref in refs:
        for path in root_paths(ref.parsed):
            if not path or path[0] not in DYNAMIC_ROOTS:
                problems.append(f"{where}: a dynamic target may only read input or request")
    return None


def _check_expression(
    expression: str | None, name: str, roots: tuple[str, ...], scope: _Scope
) -> set[str]:
    try:
        parsed = compile_expression(expression or "")
    except ExpressionError as exc:
        scope.add(f"{scope.where}.{name}: {exc}")
        return set()
    return _check_ref(Reference(name, expression or "", parsed), roots, scope)


def _check_ref(ref: Reference, roots: tuple[str, ...], scope: _Scope) -> set[str]:
    deps: set[str] = set()
    at = f"{scope.where}.{ref.where}: {ref.expression!r}"
    for path in relative_paths(ref.parsed):
        if path and path[0] in ("steps", "input", "request") and path[0] in roots:
            scope.add(
                f"{at}: {'.'.join(path)} is read from the current element (after a projection "
                "or pipe), not from the request; move it out, e.g. into a function argument"
            )
    for path in root_paths(ref.parsed):
        if not path:
            scope.add(
                f"{at}: `@` at the top reads the whole context; start from {', '.join(roots)}"
            )
            continue
        root = path[0]
        if root not in roots:
            hint = (
                " (item and index exist only in a fan-out step)"
                if root in FAN_OUT_ROOTS
                else _suggest(root, roots)
            )
            scope.add(f"{at}: unknown name {root!r}{hint}; use {', '.join(roots)}")
            continue
        if root != "steps":
            continue
        if len(path) < 2:
            scope.add(f"{at}: name a step: steps.<id>.result")
            continue
        target = path[1]
        if target == scope.step_id:
            scope.add(f"{at}: a step cannot read its own result")
        elif target not in scope.known:
            scope.add(f"{at}: unknown step {target!r}{_suggest(target, scope.known)}")
        else:
            deps.add(target)
            if len(path) >= 3 and path[2] not in STEP_FIELDS:
                scope.add(
                    f"{at}: steps.{target} has no {path[2]!r}{_suggest(path[2], STEP_FIELDS)} "
                    f"(use {', '.join(STEP_FIELDS)})"
                )
    return deps


def _check_payload_fields(payload: dict[str, Any], model: type[BaseModel], where: str) -> list[str]:
    """Unknown and missing top-level fields against the command's payload model."""
    if any(isinstance(k, str) and k.startswith("$") for k in payload):
        return []  # the whole payload is computed
    fields = model.model_fields
    forbids = model.model_config.get("extra") == "forbid"
    out = []
    for key in payload:
        if forbids and key not in fields:
            out.append(
                f"{where}.{key}: not a field of this command{_suggest(key, fields)} "
                f"(fields: {', '.join(fields)})"
            )
    for name, info in fields.items():
        if info.is_required() and name not in payload:
            out.append(f"{where}: missing required field {name!r}")
    return out


def _check_output(output: Any, known: set[str]) -> list[str]:
    if output is None:
        return []
    problems: list[str] = []
    try:
        refs = list(references(output, "output"))
    except ExpressionError as exc:
        return [str(exc)]
    scope = _Scope("workflow", "", known, problems)
    for ref in refs:
        _check_ref(ref, PAYLOAD_ROOTS, scope)
    return problems


def _schema_validator(schema: dict[str, Any]) -> tuple[Any, str | None]:
    import jsonschema
    from jsonschema.exceptions import SchemaError

    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        return None, f"not a valid JSON Schema: {exc.message}"
    return cls(schema), None


def _topological(ids: list[str], deps: dict[str, set[str]]) -> tuple[list[str], list[str]]:
    """Kahn's order (stable: declaration order among ready steps), or a cycle."""
    remaining = {s: set(deps[s]) for s in ids}
    order: list[str] = []
    while remaining:
        ready = [s for s in ids if s in remaining and not remaining[s]]
        if not ready:
            return order, _find_cycle(remaining)
        for s in ready:
            order.append(s)
            del remaining[s]
        for rest in remaining.values():
            rest.difference_update(ready)
    return order, []


def _find_cycle(graph: dict[str, set[str]]) -> list[str]:
    for start in graph:
        path, seen = [start], {start}
        node = start
        while True:
            nxt = sorted(graph[node])[0] if graph[node] else None
            if nxt is None:
                break
            if nxt in seen:
                i = path.index(nxt)
                return [*path[i:], nxt]
            path.append(nxt)
            seen.add(nxt)
            node = nxt
    return list(graph)


def _suggest(name: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _format_errors(exc: PydanticValidationError, data: dict[str, Any]) -> list[str]:
    raw_steps = data.get("steps")
    steps: list[Any] = raw_steps if isinstance(raw_steps, list) else []
    out = []
    for err in exc.errors():
        loc = list(err["loc"])
        parts: list[str] = []
        for i, p in enumerate(loc):
            if isinstance(p, int):
                label = f"[{p}]"
                if i > 0 and loc[i - 1] == "steps" and p < len(steps):
                    sid = steps[p].get("id") if isinstance(steps[p], dict) else None
                    if isinstance(sid, str):
                        label += f" ({sid})"
                parts.append(label)
            else:
                parts.append(("." if parts else "") + str(p))
        where = "".join(parts) or "(top)"
        msg = err["msg"]
        if err["type"] == "missing":
            msg = "missing required field"
        elif err["type"] == "extra_forbidden":
            msg = "unknown field"
        out.append(f"{where}: {msg}")
    return out

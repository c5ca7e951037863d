"""The workflows an orchestrator knows: the built-ins and the YAML files of WORKFLOWS_DIR.

Files are read and validated once, at start. A custom file with a problem
stops the orchestrator with every problem listed (``file.yaml:12:3: ...`` for
YAML syntax, ``file.yaml: workflow 'x': steps[2] (render).command: ...`` for the
rest). A built-in whose worker is not installed is kept as *unavailable*
(``workflow.start`` says why) instead of stopping the process.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agents.orchestrator.ports import WorkerCatalog
from agents.orchestrator.validation import CompiledWorkflow, WorkflowError, compile_workflow
from enginedge_streams.errors import ConfigError, NotFoundError, PermanentError

log = logging.getLogger("enginedge.orchestrator")
BUILTIN_DIR = Path(__file__).with_name("builtin")


def read_yaml(path: Path) -> list[Any]:
    """The YAML documents of one file; syntax errors name the line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkflowError([f"cannot read: {exc.strerror or exc}"], source=str(path)) from None
    try:
        return [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        problem = exc.problem or str(exc)
        context = f" ({exc.context})" if exc.context else ""
        raise WorkflowError([f"YAML syntax: {problem}{context}"], source=where) from None
    except yaml.YAMLError as exc:
        raise WorkflowError([f"YAML: {exc}"], source=str(path)) from None


def load_file(path: Path, catalog: WorkerCatalog) -> list[CompiledWorkflow]:
    documents = read_yaml(path)
    if not documents:
        raise WorkflowError(["the file holds no workflow"], source=str(path))
    out, problems = [], []
    for i, doc in enumerate(documents):
        name = doc.get("name") if isinstance(doc, dict) else None
        label = f"workflow {name!r}" if isinstance(name, str) else f"document {i + 1}"
        try:
            out.append(compile_workflow(doc, catalog, source=str(path)))
        except WorkflowError as exc:
            problems += [f"{label}: {p}" for p in exc.problems]
    if problems:
        raise WorkflowError(problems, source=str(path))
    return out


def workflow_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


@dataclass
class WorkflowLibrary:
    catalog: WorkerCatalog
    workflows: dict[str, CompiledWorkflow] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    _snapshots: dict[str, CompiledWorkflow] = field(default_factory=dict)

    @classmethod
    def load(cls, catalog: WorkerCatalog, custom_dir: str | Path | None = None) -> WorkflowLibrary:
        lib = cls(catalog)
        for path in workflow_files(BUILTIN_DIR):
            try:
                for wf in load_file(path, catalog):
                    lib.workflows[wf.name] = wf
            except WorkflowError as exc:
                name = path.stem
                lib.unavailable[name] = exc.message
                log.warning("built-in workflow %s is unavailable: %s", name, exc.message)
        if custom_dir:
            lib.load_custom(Path(custom_dir))
        return lib

    def load_custom(self, directory: Path) -> None:
        if not directory.is_dir():
            raise ConfigError(f"WORKFLOWS_DIR: {directory} is not a directory")
        problems: list[str] = []
        origin: dict[str, str] = {}
        for path in workflow_files(directory):
            try:
                loaded = load_file(path, self.catalog)
            except WorkflowError as exc:
                problems.append(exc.message)
                continue
            for wf in loaded:
                if wf.name in origin:
                    problems.append(
                        f"{path}: workflow {wf.name!r} is already defined in {origin[wf.name]}"
                    )
                    continue
                if wf.name in self.workflows:
                    log.info("%s replaces the built-in workflow %s", path, wf.name)
                origin[wf.name] = str(path)
                self.workflows[wf.name] = wf
                self.unavailable.pop(wf.name, None)
        if problems:
            raise ConfigError("WORKFLOWS_DIR has invalid workflows:\n" + "\n".join(problems))

    def get(self, name: str) -> CompiledWorkflow:
        wf = self.workflows.get(name)
        if wf is not None:
            return wf
        if name in self.unavailable:
            raise PermanentError(
                f"workflow {name!r} is unavailable here: {self.unavailable[name]}",
                code="WORKFLOW_UNAVAILABLE",
            )
        raise NotFoundError(
            f"no workflow {name!r}",
            code="UNKNOWN_WORKFLOW",
            details={"known": sorted(self.workflows)},
        )

    def inline(self, definition: dict[str, Any]) -> CompiledWorkflow:
        return compile_workflow(definition, self.catalog, source="inline definition")

    def snapshot(self, digest: str, definition: dict[str, Any]) -> CompiledWorkflow:
        """The compiled form of a request's stored definition (cached by digest).

        Checked for structure and references only, not against the current
        workers: a request keeps running the definition it started with.
        """
        wf = self._snapshots.get(digest)
        if wf is None:
            for known in self.workflows.values():
                if known.digest == digest:
                    wf = known
                    break
            else:
                wf = compile_workflow(definition, _AnyWorker(), source="stored request")
            self._snapshots[digest] = wf
        return wf

    def describe(self) -> dict[str, Any]:
        return {
            "workflows": [self.workflows[n].describe() for n in sorted(self.workflows)],
            "unavailable": dict(sorted(self.unavailable.items())),
        }


class _AnyWorker:
    """A catalog that accepts every worker (for definitions already validated once)."""

    def worker_types(self) -> list[str]:
        return _Everything()  # only `in` is used on it

    def commands(self, worker_type: str) -> None:
        return None


class _Everything(list[str]):
    def __contains__(self, item: object) -> bool:
        return True

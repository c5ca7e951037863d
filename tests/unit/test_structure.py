"""The seam between the platform and the workers, held by reading the source (``ast``).

* no import cycles among the modules of ``enginedge_streams/``, ``tables/`` and ``agents/``
  (every import counts: module level, inside functions, under ``TYPE_CHECKING``);
* ``enginedge_streams/`` and ``tables/`` import no worker package (``agents.<worker>``),
  neither with an import statement nor with a module path string (``import_module``,
  compute warm-up); the registry ``agents/__init__.py`` is the one way in, used by the
  composition root, the CLI and the docs generators only;
* no module over ``MAX_LINES`` lines (the orchestrator's pure state machine may stay whole);
* worker code imports Faust only in its wiring (``agent.py``, ``http.py``, ``faust_*.py``).
* no worker package defines a Protocol of the same methods and parameters as a platform
  port (``enginedge_streams/ports/``): a shared port is defined once.

An exception is an entry below with the file, why, and a ceiling: the file may shrink, never
grow, and the entry goes when the file is fixed.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("enginedge_streams", "tables", "agents")
PLATFORM = ("enginedge_streams", "tables")
MAX_LINES = 450

#: Allowed by the design (issue 17): may be longer than MAX_LINES.
ALLOWED_LONG = {"agents/orchestrator/engine.py": "the orchestrator's pure state machine"}

#: Known violations in areas being reworked elsewhere: path -> (line ceiling, owner/why).
KNOWN_LONG: dict[str, tuple[int, str]] = {}

#: The platform modules that may use the worker registry (``agents/__init__.py``): the
#: composition root, the CLI and the generators of the docs that list every worker.
REGISTRY_USERS = (
    "enginedge_streams.bootstrap",
    "enginedge_streams.cli.",
    "enginedge_streams.config_doc",
    "enginedge_streams.schemas",
)

#: A module path written as a string: "agents.<worker>." or f"agents.{...}." (not "agents.").
WORKER_PATH = re.compile(r"""^f?["']agents\.(\w+|\{[^}]*\})\.""")


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported module
    line: int


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


@cache
def tree(module: str) -> ast.Module:
    path = modules()[module]
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _absolute(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    is_package = modules()[module].name == "__init__.py"
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _known(name: str) -> str | None:
    """The longest prefix of ``name`` that is a module of the three packages."""
    parts = name.split(".")
    while parts and ".".join(parts) not in modules():
        parts.pop()
    return ".".join(parts) or None


def imports(module: str) -> Iterator[Import]:
    """Every import of ``module`` that names a module of the three packages (``from pkg
    import sub`` is an import of ``pkg.sub`` when ``sub`` is a module, else of ``pkg``)."""
    for node in ast.walk(tree(module)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node)
            subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules()]
            names = subs if len(subs) == len(node.names) else [base, *subs]
        for name in names:
            target = _known(name)
            if target is not None and target != module:
                yield Import(module, target, node.lineno)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _docstrings(module: ast.Module) -> set[int]:
    ids = set()
    for node in ast.walk(module):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            ids.add(id(body[0].value))
    return ids


def _relative(module: str) -> str:
    return modules()[module].relative_to(ROOT).as_posix()


# -- the checks ---------------------------------------------------------------------------


def test_the_checks_see_the_packages_and_a_cycle():
    assert {"enginedge_streams.runtime", "tables.kv", "agents", "agents.news.agent"} <= set(
        modules()
    )
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    assert WORKER_PATH.match("f'agents.{worker_type}.compute'")
    assert WORKER_PATH.match('"agents.news.http"')
    assert not WORKER_PATH.match('"agents."')


def test_no_import_cycles():
    graph = {m: {i.target for i in imports(m)} for m in modules()}
    found = cycles(graph)
    detail = [
        [
            f"{_relative(i.source)}:{i.line} -> {i.target}"
            for m in c
            for i in imports(m)
            if i.target in c
        ]
        for c in found
    ]
    assert not found, f"import cycles: {detail}"


def test_the_platform_imports_no_worker_package():
    bad = []
    for module in modules():
        if module.split(".")[0] not in PLATFORM:
            continue
        bad += [
            f"{_relative(module)}:{i.line} imports {i.target}"
            for i in imports(module)
            if i.target.startswith("agents.")
            or (i.target == "agents" and not module.startswith(REGISTRY_USERS))
        ]
        skip = _docstrings(tree(module))
        for node in ast.walk(tree(module)):
            if isinstance(node, ast.Constant | ast.JoinedStr) and id(node) not in skip:
                if isinstance(node, ast.Constant) and not isinstance(node.value, str):
                    continue
                text = ast.unparse(node)
                if WORKER_PATH.match(text):
                    bad.append(f"{_relative(module)}:{node.lineno} names the module {text}")
    assert not bad, "use the registry (agents/__init__.py) from the composition root: " + "; ".join(
        bad
    )


def test_no_module_over_the_line_limit():
    too_long = {}
    for module, path in modules().items():
        rel = _relative(module)
        lines = len(path.read_text(encoding="utf-8").splitlines())
        ceiling = KNOWN_LONG.get(rel, (MAX_LINES, ""))[0]
        if rel not in ALLOWED_LONG and lines > ceiling:
            too_long[rel] = lines
    assert not too_long, f"modules over {MAX_LINES} lines (split them): {too_long}"


#: Where a worker package may touch Faust: its wiring, its web routes, its Faust adapters.
FAUST = ("faust", "mode", "aiokafka")


def _is_wiring(path: Path) -> bool:
    return path.name in ("agent.py", "http.py") or path.name.startswith("faust_")


def test_worker_code_outside_the_wiring_imports_no_faust():
    bad = []
    for module, path in modules().items():
        if not module.startswith("agents.") or _is_wiring(path):
            continue
        for node in ast.walk(tree(module)):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            bad += [
                f"{_relative(module)}:{node.lineno} {n}" for n in names if n.split(".")[0] in FAUST
            ]
    assert not bad, f"Faust outside agent.py/http.py/faust_*.py: {bad}"


def _protocols(module: str) -> dict[str, frozenset[tuple[str, tuple[str, ...]]]]:
    """Protocol classes of ``module``: name -> {(method, parameter names)}."""
    found = {}
    for node in tree(module).body:
        if isinstance(node, ast.ClassDef) and any(
            ast.unparse(b).endswith("Protocol") for b in node.bases
        ):
            found[node.name] = frozenset(
                (f.name, tuple(a.arg for a in [*f.args.args, *f.args.kwonlyargs]))
                for f in node.body
                if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
            )
    return found


def test_no_worker_redefines_a_platform_port():
    shared = {
        shape: f"{_relative(m)}:{name}"
        for m in modules()
        if m.startswith("enginedge_streams.ports.")
        for name, shape in _protocols(m).items()
        if shape
    }
    copies = [
        f"{_relative(m)}:{name} is {shared[shape]}"
        for m in modules()
        if m.startswith("agents.")
        for name, shape in _protocols(m).items()
        if shape in shared
    ]
    assert len(shared) >= 6, shared
    assert not copies, f"ports defined twice (use the platform's): {copies}"

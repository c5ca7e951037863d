"""The LaTeX worker's ports: a sandboxed TeX runner and a math renderer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

Outcome = Literal["ok", "failed", "timeout", "output_too_large", "page_limit", "killed"]


@dataclass(frozen=True)
class CompileJob:
    """Everything one compile needs; ``files`` maps relative paths (main included) to bytes."""

    main_filename: str
    files: Mapping[str, bytes]
    engine: str = "pdflatex"
    bibliography: str = "auto"  # auto | bibtex | none
    max_passes: int = 5
    timeout_seconds: float = 60.0
    max_pages: int = 0  # most pages TeX may ship out (0: no limit); enforced while it runs
    terminal_input: tuple[str, ...] = ()  # answers to \typein/\read16, one line each


@dataclass
class CompileOutcome:
    outcome: Outcome
    pdf: bytes | None  # the PDF; on "failed", what TeX produced despite errors (partial)
    log: str  # the engine's .log of the last run ("" if none was written)
    runner_output: str  # latexmk's own output (tail)
    passes: int  # engine runs
    tool_runs: dict[str, int] = field(default_factory=dict)  # e.g. {"bibtex": 1}
    duration_ms: float = 0.0
    exit_code: int | None = None
    detail: str = ""  # why it was stopped (timeout, size, pages, signal)
    pages: int | None = None  # pages in the PDF (from the engine's log)


class TexRunner(Protocol):
    engines: tuple[str, ...]  # the engines this runner can run safely here

    async def compile(self, job: CompileJob) -> CompileOutcome: ...


class MathRenderer(Protocol):
    async def mathml(self, latex: str, *, display: bool) -> str: ...

    async def svg(self, latex: str, *, display: bool, size: float) -> str: ...

    async def png(self, svg: str, *, scale: float) -> bytes: ...

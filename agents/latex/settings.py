"""LaTeX worker settings (env vars, read once by the composition root)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from enginedge_streams.settings import EnvSettings

ENGINES = ("pdflatex", "xelatex", "lualatex")


class LatexSettings(EnvSettings):
    latex_timeout_seconds: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="Wall-clock limit of one compile (all passes); a command may ask for less.",
    )
    latex_cpu_seconds: int = Field(
        90, ge=1, le=3600, description="CPU-time limit (RLIMIT_CPU) of each TeX child process."
    )
    latex_memory_mb: int = Field(
        2048, ge=128, description="Address-space limit (RLIMIT_AS, MiB) of each TeX child process."
    )
    latex_max_output_bytes: int = Field(
        20_000_000,
        ge=100_000,
        description="Largest file a compile may write (RLIMIT_FSIZE) and largest PDF kept.",
    )
    latex_max_workdir_bytes: int = Field(
        200_000_000,
        ge=1_000_000,
        description="Total size of one compile's working directory; past it the compile is killed.",
    )
    latex_max_input_bytes: int = Field(
        10_000_000,
        ge=10_000,
        description="Largest total input of one compile (main file + decoded extra files).",
    )
    latex_max_pages: int = Field(
        1_000,
        ge=1,
        le=100_000,
        description="Most pages one compile may produce; TeX is stopped as it ships out the next "
        "one (PAGE_LIMIT_EXCEEDED). A command may ask for less (`max_pages`).",
    )
    latex_max_concurrent_compiles: int = Field(
        0,
        ge=0,
        le=64,
        description="TeX compiles running at once in one process (0: MAX_CONCURRENCY).",
    )
    latex_sandbox: Literal["auto", "bwrap", "none"] = Field(
        "auto",
        description="Filesystem/network sandbox around TeX: `bwrap` (bubblewrap, required), "
        "`auto` (bwrap when it works here, else none) or `none` (TeX's own restrictions "
        "and rlimits only; lualatex is then refused).",
    )
    latex_engines: str = Field(
        "pdflatex,xelatex,lualatex", description="Engines clients may choose (comma list)."
    )
    latex_work_dir: Path | None = Field(
        None,
        description="Where per-compile working directories are created (default: the system "
        "temporary directory).",
    )
    latex_cache_dir: Path = Field(
        Path("var/latex-cache"),
        description="Font cache built once at start for lualatex (copied into each compile).",
    )
    latex_log_max_chars: int = Field(
        20_000, ge=1_000, le=100_000, description="Most characters of the TeX log in a result."
    )
    latex_inline_artifact_max_bytes: int = Field(
        512_000,
        ge=0,
        le=560_000,
        description="`latex.artifact.get` inlines content up to this size (bigger: use the URL).",
    )

    @field_validator("latex_engines")
    @classmethod
    def _engines(cls, value: str) -> str:
        names = [e.strip().lower() for e in value.split(",") if e.strip()]
        unknown = sorted(set(names) - set(ENGINES))
        if unknown or not names:
            raise ValueError(f"choose from {', '.join(ENGINES)} (got {value!r})")
        return ",".join(names)

    @property
    def engines(self) -> tuple[str, ...]:
        return tuple(self.latex_engines.split(","))

"""Payloads of the LaTeX worker's commands (validated; JSON Schemas via GET /commands)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Engine = Literal["pdflatex", "xelatex", "lualatex"]
MathFormat = Literal["mathml", "svg", "png"]

MAX_MAIN_CHARS = 5_000_000
MAX_FILE_B64_CHARS = 20_000_000
MAX_FILES = 100
MAX_TERMINAL_LINES = 50
#: Extra files a compile may bring; nothing executable, no rc files.
ALLOWED_EXTENSIONS = frozenset(
    {
        *("tex", "ltx", "sty", "cls", "clo", "cfg", "def", "fd", "bbl"),
        *("bib", "bst", "bbx", "cbx", "lbx", "dbx", "ist", "idx"),
        *("png", "jpg", "jpeg", "pdf", "eps", "txt", "csv", "dat", "tikz", "pgf", "otf", "ttf"),
    }
)
_SAFE_PATH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*(/[A-Za-z0-9_][A-Za-z0-9_.+-]*){0,3}$")
RESERVED_NAMES = frozenset({"latexmkrc", "texmf.cnf"})


def check_relative_path(value: str, *, extensions: frozenset[str] = ALLOWED_EXTENSIONS) -> str:
    """A relative path inside the compile directory: no `..`, no dot files, known extension."""
    if len(value) > 200 or not _SAFE_PATH.fullmatch(value) or ".." in value:
        raise ValueError(
            "must be a relative path of letters, digits and `_.+-` (at most 4 levels, "
            "no `..`, no leading dot or slash)"
        )
    name = value.rsplit("/", 1)[-1]
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if name.lower() in RESERVED_NAMES or ext not in extensions:
        raise ValueError(f"file type not allowed (allowed: {', '.join(sorted(extensions))})")
    return value


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InputFile(_Payload):
    """An extra file next to the main file: text (`content`) or bytes (`content_base64`)."""

    path: str = Field(min_length=1, max_length=200, examples=["refs.bib", "img/logo.png"])
    content: str | None = Field(None, max_length=MAX_MAIN_CHARS)
    content_base64: str | None = Field(None, max_length=MAX_FILE_B64_CHARS)

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        return check_relative_path(value)

    @model_validator(mode="after")
    def _one_content(self) -> InputFile:
        if (self.content is None) == (self.content_base64 is None):
            raise ValueError("give exactly one of `content` or `content_base64`")
        return self


class CompileDocument(_Payload):
    """`latex.compile`: LaTeX source (+ extra files) -> a PDF artifact, log and diagnostics."""

    main: str = Field(min_length=1, max_length=MAX_MAIN_CHARS, description="The main .tex source.")
    main_filename: str = Field("main.tex", max_length=100)
    files: list[InputFile] = Field(default_factory=list, max_length=MAX_FILES)
    engine: Engine = "pdflatex"
    bibliography: Literal["auto", "bibtex", "none"] = Field(
        "auto", description="auto: run BibTeX when the document asks for it."
    )
    max_passes: int = Field(5, ge=1, le=10, description="Most engine runs (latexmk max_repeat).")
    timeout_seconds: float | None = Field(
        None, gt=0, le=3600, description="Wall-clock limit (capped by LATEX_TIMEOUT_SECONDS)."
    )
    filename: str | None = Field(
        None, max_length=100, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_. -]*\.pdf$", examples=["cv.pdf"]
    )
    max_pages: int | None = Field(
        None, ge=1, le=100_000, description="Page limit (capped by LATEX_MAX_PAGES)."
    )
    terminal_input: list[str] = Field(
        default_factory=list,
        max_length=MAX_TERMINAL_LINES,
        description="Answers to the document's terminal questions (\\typein, \\read16), one "
        "line each, in order; without them such a document fails with `terminal_input`.",
        examples=[["a4paper", "n"]],
    )

    @field_validator("terminal_input")
    @classmethod
    def _one_line_each(cls, value: list[str]) -> list[str]:
        for line in value:
            if len(line) > 1_000 or any(ch in line for ch in "\r\n\x00"):
                raise ValueError("each answer is one line of at most 1,000 characters")
        return value

    @field_validator("main_filename")
    @classmethod
    def _main_name(cls, value: str) -> str:
        check_relative_path(value, extensions=frozenset({"tex", "ltx"}))
        if "/" in value:
            raise ValueError("the main file must be at the top level")
        return value

    @model_validator(mode="after")
    def _unique_paths(self) -> CompileDocument:
        paths = [self.main_filename.lower()] + [f.path.lower() for f in self.files]
        if len(set(paths)) != len(paths):
            raise ValueError("file paths must be unique (and differ from main_filename)")
        stem = self.main_filename.rsplit(".", 1)[0].lower()
        if {f"{stem}.pdf", f"{stem}.log"} & set(paths):
            raise ValueError(f"{stem}.pdf and {stem}.log are the compile's outputs, not inputs")
        return self


def _default_formats() -> list[MathFormat]:
    return ["mathml", "svg"]


class RenderMath(_Payload):
    """`latex.render_math`: a formula -> MathML and SVG (and PNG when asked), no TeX run."""

    latex: str = Field(
        min_length=1,
        max_length=1_000,  # pure-Python layout: ~1.5 s of CPU at the cap
        examples=[r"\frac{a}{b} + \sqrt{x^2+1}"],
    )
    display: bool = Field(False, description="Display (block) style instead of inline.")
    formats: list[MathFormat] = Field(default_factory=_default_formats, min_length=1, max_length=3)
    size: float = Field(24.0, ge=4, le=200, description="Font size in px for SVG/PNG.")
    png_scale: float = Field(2.0, ge=0.5, le=8, description="PNG pixels per SVG unit.")


class ListTemplates(_Payload):
    """`latex.template.list`: the templates and their variables (JSON Schema each)."""


class RenderTemplate(_Payload):
    """`latex.template.render`: fill a template (values LaTeX-escaped); compile it if asked."""

    template: str = Field(min_length=1, max_length=50, examples=["article"])
    values: dict[str, Any] = Field(default_factory=dict, max_length=50)
    compile: bool = Field(False, description="Also compile the result to a PDF artifact.")
    engine: Engine = "pdflatex"
    timeout_seconds: float | None = Field(None, gt=0, le=3600)


class GetArtifact(_Payload):
    """`latex.artifact.get`: an artifact's metadata, and its bytes (base64) when small enough."""

    artifact_id: str = Field(min_length=8, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]+$")
    include_content: bool = True

"""LaTeX worker handlers: plain async functions over the TexRunner, MathRenderer and
ArtifactStore ports (no Faust, no adapters)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass
from typing import Any

from agents.latex import compute as steps
from agents.latex import templates
from agents.latex.diagnostics import Diagnostic
from agents.latex.messages import (
    CompileDocument,
    GetArtifact,
    ListTemplates,
    RenderMath,
    RenderTemplate,
)
from agents.latex.ports import CompileJob, CompileOutcome, MathRenderer, TexRunner
from agents.latex.summary import bounded, failure_message, summary_of
from enginedge_streams.compute import InlineComputePool
from enginedge_streams.errors import (
    DeadlineExceededError,
    DependencyUnavailableError,
    LimitExceededError,
    NotFoundError,
    PermanentError,
    ValidationError,
)
from enginedge_streams.handlers import CommandContext, CommandSpec
from enginedge_streams.ports.artifact_store import ArtifactStore
from enginedge_streams.ports.compute_pool import ComputePool

UNKNOWN_MATH_CMD_RE = re.compile(r"<m[io][^>]*>(\\[A-Za-z]+)</m[io]>")
SVG_SIZE_RE = re.compile(r'<svg[^>]*?width="([0-9.]+)"[^>]*?height="([0-9.]+)"')
SOURCE_INLINE_MAX_CHARS = 200_000
PNG_MAX_PIXELS = 16_000_000
INLINE = InlineComputePool()  # direct calls (tests); the worker passes its process pool


@dataclass(frozen=True)
class CompilePolicy:
    """The limits a handler enforces before and around the runner (from settings)."""

    timeout_seconds: float = 60.0
    max_input_bytes: int = 10_000_000
    max_output_bytes: int = 20_000_000
    max_pages: int = 1_000
    log_max_chars: int = 20_000
    inline_artifact_max_bytes: int = 512_000
    diagnose_timeout_seconds: float = 20.0  # reading the log (compute step LOG_PARSE_TIME_LIMIT)


@dataclass(frozen=True)
class Toolchain:
    """What a compile runs on: the TeX runner, the artifact store, the limits and the pool
    the log is read in."""

    tex: TexRunner
    artifacts: ArtifactStore
    policy: CompilePolicy
    compute: ComputePool = INLINE


def artifact_id_for(command_id: str) -> str:
    """Deterministic per command: a re-run (at-least-once) overwrites, never duplicates."""
    return "pdf-" + hashlib.sha256(command_id.encode()).hexdigest()[:32]


def _decode_files(cmd: CompileDocument) -> dict[str, bytes]:
    files = {cmd.main_filename: cmd.main.encode()}
    for f in cmd.files:
        if f.content is not None:
            files[f.path] = f.content.encode()
            continue
        try:
            files[f.path] = base64.b64decode(f.content_base64 or "", validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError(
                f"files[{f.path}]: content_base64 is not valid base64",
                details={"path": f.path},
            ) from None
    return files


async def compile_pdf(
    files: dict[str, bytes],
    *,
    main_filename: str,
    engine: str,
    bibliography: str = "auto",
    max_passes: int = 5,
    timeout_seconds: float | None = None,
    filename: str | None = None,
    max_pages: int | None = None,
    terminal_input: tuple[str, ...] = (),
    tools: Toolchain,
    ctx: CommandContext,
) -> dict[str, Any]:
    """Compile in the sandbox, diagnose, store the PDF; FAILED with diagnostics otherwise."""
    tex, artifacts, policy, compute = tools.tex, tools.artifacts, tools.policy, tools.compute
    if engine not in tex.engines:
        if not tex.engines:
            raise DependencyUnavailableError("no TeX engine is available on this worker")
        raise PermanentError(
            f"engine {engine!r} is not available here (available: {', '.join(tex.engines)})",
            code="ENGINE_UNAVAILABLE",
            details={"available": list(tex.engines)},
        )
    total = sum(len(v) for v in files.values())
    if total > policy.max_input_bytes:
        raise LimitExceededError(
            f"the input is {total:,} bytes; the limit is {policy.max_input_bytes:,}",
            code="INPUT_TOO_LARGE",
            details={"input_bytes": total, "limit": policy.max_input_bytes},
        )
    timeout = min(timeout_seconds or policy.timeout_seconds, policy.timeout_seconds)
    timeout = min(timeout, ctx.remaining_seconds() - 0.5)
    if timeout <= 0:
        raise DeadlineExceededError("no time left before the command's deadline to compile")
    pages_cap = min(max_pages or policy.max_pages, policy.max_pages)
    ctx.progress(stage="compiling", engine=engine)
    outcome = await tex.compile(
        CompileJob(
            main_filename,
            files,
            engine,
            bibliography,
            max_passes,
            timeout,
            max_pages=pages_cap,
            terminal_input=terminal_input,
        )
    )
    ctx.progress(stage="diagnosing")
    errors, warnings = await compute.run(
        steps.diagnose_step,
        outcome.log,
        outcome.runner_output,
        steps.text_sources(files),
        main_filename,
        timeout_s=policy.diagnose_timeout_seconds,
        limit_code="LOG_PARSE_TIME_LIMIT",
    )
    if outcome.outcome == "ok" and outcome.detail:  # e.g. references still changing
        warnings.insert(
            0,
            Diagnostic(
                "not_converged",
                f"the last of {outcome.passes} passes still changed the auxiliary files "
                "(references or page numbers may be off): allow more `max_passes`",
            ),
        )
    summary = summary_of(outcome, engine, errors, warnings, policy.log_max_chars)
    if outcome.outcome == "timeout":
        raise PermanentError(
            f"compile stopped: {outcome.detail}", code="LATEX_TIMEOUT", details=summary
        )
    if outcome.outcome == "output_too_large":
        raise LimitExceededError(
            f"compile stopped: {outcome.detail}", code="OUTPUT_TOO_LARGE", details=summary
        )
    if outcome.outcome == "page_limit":
        raise LimitExceededError(
            f"compile stopped: {outcome.detail}",
            code="PAGE_LIMIT_EXCEEDED",
            details={**summary, "max_pages": pages_cap},
        )
    if outcome.outcome == "killed" and not errors:
        raise LimitExceededError(
            f"compile stopped: {outcome.detail}", code="RESOURCE_LIMIT", details=summary
        )
    stem = main_filename.rsplit(".", 1)[0]
    name = filename or f"{stem}.pdf"
    if outcome.outcome != "ok" or outcome.pdf is None or errors:
        if outcome.pdf is not None and len(outcome.pdf) <= policy.max_output_bytes:
            # TeX went on past the errors (nonstop mode): what it produced, marked partial.
            summary["partial_artifact"] = await _store_pdf(
                outcome, engine, name, artifacts, ctx, partial=True
            )
        raise PermanentError(failure_message(outcome, errors), code="LATEX_ERROR", details=summary)
    if len(outcome.pdf) > policy.max_output_bytes:
        raise LimitExceededError(
            f"the PDF is {len(outcome.pdf):,} bytes; the limit is {policy.max_output_bytes:,}",
            code="OUTPUT_TOO_LARGE",
            details=summary,
        )
    ctx.progress(stage="storing")
    artifact = await _store_pdf(outcome, engine, name, artifacts, ctx, partial=False)
    return bounded({"artifact": artifact, **summary})


async def _store_pdf(
    outcome: CompileOutcome,
    engine: str,
    filename: str,
    artifacts: ArtifactStore,
    ctx: CommandContext,
    *,
    partial: bool,
) -> dict[str, Any]:
    assert outcome.pdf is not None
    info = await artifacts.put(
        outcome.pdf,
        content_type="application/pdf",
        filename=filename,
        artifact_id=artifact_id_for(ctx.command_id),
        metadata={
            "command_id": ctx.command_id,
            "engine": engine,
            "pages": str(outcome.pages or ""),
            **({"partial": "true"} if partial else {}),
            **({"tenant_id": ctx.tenant_id} if ctx.tenant_id else {}),
            **({"user_id": ctx.user_id} if ctx.user_id else {}),
        },
    )
    return {
        **info.view(),
        "pages": outcome.pages,
        "partial": partial,
        "url": f"/artifacts/{info.artifact_id}",
    }


async def handle_compile(
    cmd: CompileDocument,
    *,
    tex: TexRunner,
    artifacts: ArtifactStore,
    policy: CompilePolicy,
    ctx: CommandContext,
    compute: ComputePool = INLINE,
) -> dict[str, Any]:
    return await compile_pdf(
        _decode_files(cmd),
        main_filename=cmd.main_filename,
        engine=cmd.engine,
        bibliography=cmd.bibliography,
        max_passes=cmd.max_passes,
        timeout_seconds=cmd.timeout_seconds,
        filename=cmd.filename,
        max_pages=cmd.max_pages,
        terminal_input=tuple(cmd.terminal_input),
        tools=Toolchain(tex, artifacts, policy, compute),
        ctx=ctx,
    )


def _balanced(latex: str) -> bool:
    depth = 0
    escaped = False
    for ch in latex:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _png_size(png: bytes) -> dict[str, int]:
    width, height = struct.unpack(">II", png[16:24])
    return {"width": width, "height": height}


async def handle_render_math(cmd: RenderMath, *, math: MathRenderer) -> dict[str, Any]:
    if not _balanced(cmd.latex):
        raise ValidationError(
            "unbalanced braces in the formula", code="INVALID_MATH", details={"latex": cmd.latex}
        )
    out: dict[str, Any] = {"latex": cmd.latex, "display": cmd.display}
    mathml = await math.mathml(cmd.latex, display=cmd.display)
    unknown = sorted(set(UNKNOWN_MATH_CMD_RE.findall(mathml)))
    if unknown:
        raise ValidationError(
            f"unknown command(s) in the formula: {', '.join(unknown)}",
            code="INVALID_MATH",
            details={"unknown_commands": unknown},
        )
    if "mathml" in cmd.formats:
        out["mathml"] = mathml
    if "svg" in cmd.formats or "png" in cmd.formats:
        svg = await math.svg(cmd.latex, display=cmd.display, size=cmd.size)
        if "svg" in cmd.formats:
            out["svg"] = svg
        if "png" in cmd.formats:
            size = SVG_SIZE_RE.search(svg)
            pixels = float(size.group(1)) * float(size.group(2)) * cmd.png_scale**2 if size else 0
            if pixels > PNG_MAX_PIXELS:
                raise LimitExceededError(
                    f"the PNG would have {pixels:,.0f} pixels; the limit is {PNG_MAX_PIXELS:,}",
                    code="IMAGE_TOO_LARGE",
                )
            png = await math.png(svg, scale=cmd.png_scale)
            out["png_base64"] = base64.b64encode(png).decode()
            out["png"] = {"bytes": len(png), **_png_size(png)}
    return bounded(out)


async def handle_template_list(cmd: ListTemplates) -> dict[str, Any]:
    return {"templates": templates.listing()}


async def handle_template_render(
    cmd: RenderTemplate,
    *,
    ctx: CommandContext,
    tex: TexRunner,
    artifacts: ArtifactStore,
    policy: CompilePolicy,
    compute: ComputePool = INLINE,
) -> dict[str, Any]:
    source = templates.render(cmd.template, cmd.values, engine=cmd.engine)
    out: dict[str, Any] = {"template": cmd.template, "engine": cmd.engine}
    if len(source) <= SOURCE_INLINE_MAX_CHARS:
        out["source"] = source
    else:  # too big for the result record: kept as an artifact instead
        info = await artifacts.put(
            source.encode(),
            content_type="application/x-tex",
            filename=f"{cmd.template}.tex",
            artifact_id="tex-" + artifact_id_for(ctx.command_id)[4:],
            metadata={"command_id": ctx.command_id, "template": cmd.template},
        )
        out["source_artifact"] = {**info.view(), "url": f"/artifacts/{info.artifact_id}"}
    if cmd.compile:
        out["compile"] = await compile_pdf(
            {"main.tex": source.encode()},
            main_filename="main.tex",
            engine=cmd.engine,
            timeout_seconds=cmd.timeout_seconds,
            filename=f"{cmd.template}.pdf",
            tools=Toolchain(tex, artifacts, policy, compute),
            ctx=ctx,
        )
    return bounded(out)


async def handle_artifact_get(
    cmd: GetArtifact, *, artifacts: ArtifactStore, policy: CompilePolicy
) -> dict[str, Any]:
    item = await artifacts.get(cmd.artifact_id)
    if item is None:
        raise NotFoundError(f"no artifact {cmd.artifact_id!r} (unknown or expired)")
    info, data = item
    out: dict[str, Any] = {**info.view(), "url": f"/artifacts/{info.artifact_id}"}
    if cmd.include_content:
        if info.size <= policy.inline_artifact_max_bytes:
            out["content_base64"] = base64.b64encode(data).decode()
        else:
            out["content_omitted"] = (
                f"{info.size:,} bytes is over the inline limit of "
                f"{policy.inline_artifact_max_bytes:,}: download it from the url"
            )
    return bounded(out)


COMMANDS = [
    CommandSpec(
        "latex.compile",
        CompileDocument,
        handle_compile,
        "Compile LaTeX (pdflatex/xelatex/lualatex, multi-pass) in a sandbox to a PDF artifact.",
    ),
    CommandSpec(
        "latex.render_math",
        RenderMath,
        handle_render_math,
        "Render a formula to MathML and SVG (PNG when asked) without a TeX run.",
        read_only=True,
    ),
    CommandSpec(
        "latex.template.list",
        ListTemplates,
        handle_template_list,
        "The document templates and their variables.",
        read_only=True,
    ),
    CommandSpec(
        "latex.template.render",
        RenderTemplate,
        handle_template_render,
        "Fill a template with LaTeX-escaped values; optionally compile it to a PDF.",
    ),
    CommandSpec(
        "latex.artifact.get",
        GetArtifact,
        handle_artifact_get,
        "An artifact's metadata and (when small) its bytes.",
        read_only=True,
    ),
]

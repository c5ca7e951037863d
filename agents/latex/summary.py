"""What a compile's result says: the diagnostics, the (bounded) log and the counters,
and the size check every result of the LaTeX worker passes before it is published."""

from __future__ import annotations

from typing import Any

import orjson

from agents.latex.diagnostics import Diagnostic
from agents.latex.ports import CompileOutcome
from enginedge_streams.errors import LimitExceededError

#: A result is one Kafka record (the producer's limit is 1 MiB): stay well below it.
RESULT_MAX_BYTES = 800_000


def clip(text: str | None, n: int) -> str | None:
    return text if text is None or len(text) <= n else text[: n - 1] + "…"


def diag_view(d: Diagnostic) -> dict[str, Any]:
    return {k: clip(v, 500) if isinstance(v, str) else v for k, v in d.view().items()}


def bounded(out: dict[str, Any]) -> dict[str, Any]:
    """Refuse a result too big for one Kafka record (it would fail to publish)."""
    size = len(orjson.dumps(out))
    if size > RESULT_MAX_BYTES:
        raise LimitExceededError(
            f"the result would be {size:,} bytes; the limit is {RESULT_MAX_BYTES:,}",
            code="RESULT_TOO_LARGE",
        )
    return out


def summary_of(
    outcome: CompileOutcome,
    engine: str,
    errors: list[Diagnostic],
    warnings: list[Diagnostic],
    log_max_chars: int,
) -> dict[str, Any]:
    log = outcome.log or outcome.runner_output
    truncated = len(log) > log_max_chars
    summary: dict[str, Any] = {
        "engine": engine,
        "passes": outcome.passes,
        "tool_runs": outcome.tool_runs,
        "duration_ms": round(outcome.duration_ms, 1),
        "errors": [diag_view(d) for d in errors[:50]],
        "warnings": [diag_view(d) for d in warnings[:50]],
        "log": log[-log_max_chars:] if truncated else log,
        "log_truncated": truncated,
    }
    if len(orjson.dumps(summary)) > RESULT_MAX_BYTES // 2:  # leave room for the rest
        summary.update(
            errors=summary["errors"][:10],
            warnings=summary["warnings"][:10],
            log=log[-5_000:],
            log_truncated=True,
        )
    return summary


def failure_message(outcome: CompileOutcome, errors: list[Diagnostic]) -> str:
    if errors:
        first = errors[0]
        where = f"{first.file}:{first.line}: " if first.file and first.line else ""
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        return f"LaTeX error: {where}{first.message}{more}"
    if outcome.outcome == "killed":
        return f"compile stopped: {outcome.detail}"
    tail = [ln for ln in outcome.runner_output.splitlines() if ln.startswith("Latexmk:")]
    return "compile failed" + (f": {tail[-1]}" if tail else " without a PDF")

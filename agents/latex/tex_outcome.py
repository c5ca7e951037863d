"""What one latexmk run left behind, read into a ``CompileOutcome``: the engine's log
(bounded), the PDF, the page count, and why the run was stopped; plus the helpers the
runner's watchdog uses while TeX runs (pages shipped so far, the directory's size,
killing the process group).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
from collections import Counter
from pathlib import Path

from agents.latex.ports import CompileJob, CompileOutcome
from agents.latex.sandbox import Limits

PAGES_RE = re.compile(r"Output written on .*?\((\d+) pages?")
#: A page shipped out, as TeX writes it in the log: ``[12`` then ``]``, `` ``, ``{`` or ``<``.
SHIPOUT_RE = re.compile(rb"\[-?\d+(?:\.-?\d+)*(?=[\]\s{<])")
#: What the guard wrote (the log also echoes the command line, which has no digits there).
PAGE_LIMIT_RE = re.compile(r"^EnginEdge page limit reached at page (\d+)", re.MULTILINE)
NOT_CONVERGED = "reached without getting stable files"  # latexmk: max_repeat passes were not enough
LOG_HEAD, LOG_TAIL = 1_000_000, 2_000_000


def collect_outcome(
    *,
    limits: Limits,
    workdir: Path,
    job: CompileJob,
    returncode: int | None,
    stopped: list[tuple[str, str]],
    runs: Counter[str],
    output: str,
    duration_ms: float,
) -> CompileOutcome:
    stem = job.main_filename.rsplit(".", 1)[0]
    log_text = read_log(workdir / f"{stem}.log")
    pdf_path = workdir / f"{stem}.pdf"
    outcome: str
    detail = ""
    written = PAGES_RE.findall(log_text)
    pages = int(written[-1]) if written else None
    if stopped:
        outcome, detail = stopped[0]
    elif job.max_pages and (
        (guard := PAGE_LIMIT_RE.search(log_text)) or (pages or 0) > job.max_pages
    ):
        outcome = "page_limit"
        detail = pages_detail(job.max_pages, int(guard.group(1)) if guard else pages)
    else:
        big = [p for p in all_files(workdir) if p.stat().st_size >= limits.max_file_bytes]
        if big:
            outcome = "output_too_large"
            detail = (
                f"{big[0].name} reached the {limits.max_file_bytes:,}-byte file size "
                "limit; the compile was stopped"
            )
        elif pdf_path.is_file() and (
            returncode == 0 or (returncode == 12 and NOT_CONVERGED in output)
        ):
            outcome = "ok"  # also when the passes ran out before the files were stable
            detail = NOT_CONVERGED if returncode else ""
        elif not log_text:
            outcome = "killed"
            detail = (
                f"{job.engine} wrote no log: it could not start or was killed by a resource "
                f"limit (memory {limits.memory_bytes // (1 << 20)} MiB, "
                f"CPU {limits.cpu_seconds} s)"
            )
        elif returncode is not None and returncode < 0:
            outcome = "killed"
            detail = f"latexmk was killed by signal {-returncode}"
        else:
            outcome = "failed"
    # "failed": TeX may have produced a PDF despite errors (nonstop mode), kept as partial.
    keep_pdf = outcome in ("ok", "failed") and pdf_path.is_file()
    pdf = pdf_path.read_bytes() if keep_pdf else None
    engine_rule = "pdflatex" if job.engine == "pdflatex" else job.engine
    return CompileOutcome(
        outcome=outcome,  # type: ignore[arg-type]  # one of the Outcome literals above
        pdf=pdf,
        log=log_text,
        runner_output=output,
        passes=runs.get(engine_rule, 0),
        tool_runs={k: v for k, v in runs.items() if k != engine_rule},
        duration_ms=duration_ms,
        exit_code=returncode,
        detail=detail,
        pages=pages,
    )


class LogPages:
    """Counts the pages TeX has shipped out in the current run, from its growing log."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.pages = 0
        self.tail = b""

    def update(self) -> int:
        try:
            size = self.path.stat().st_size
            if size < self.offset:  # a new engine run rewrote the log
                self.offset, self.pages, self.tail = 0, 0, b""
            with self.path.open("rb") as fh:
                fh.seek(self.offset)
                data = fh.read(8 << 20)
        except OSError:
            return self.pages
        self.offset += len(data)
        text = self.tail + data
        cut = max(0, len(text) - 32)  # markers starting later wait for the next read
        self.pages += sum(1 for m in SHIPOUT_RE.finditer(text) if m.start() < cut)
        self.tail = text[cut:]
        return self.pages


def pages_detail(limit: int, pages: int | None) -> str:
    seen = f" (stopped at page {pages:,})" if pages else ""
    return f"the document has more pages than the limit of {limit:,}{seen}"


def kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def all_files(root: Path) -> list[Path]:
    out: list[Path] = []
    for dirpath, _, names in os.walk(root):
        out.extend(Path(dirpath) / n for n in names)
    return out


def usage(root: Path) -> tuple[int, int]:
    total = count = 0
    for dirpath, _, names in os.walk(root):
        for name in names:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
                count += 1
    return total, count


def read_log(path: Path) -> str:
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            if size <= LOG_HEAD + LOG_TAIL:
                data = fh.read()
            else:
                head = fh.read(LOG_HEAD)
                fh.seek(size - LOG_TAIL)
                data = head + b"\n[... log truncated ...]\n" + fh.read()
    except OSError:
        return ""
    return data.decode("utf-8", errors="replace")

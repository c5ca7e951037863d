"""Structured errors and warnings from a TeX log, with line numbers and suggested fixes.

Pure functions over text. The runner makes TeX write one message per line
(``max_print_line=10000``) and prefix errors with ``file:line:``
(``-file-line-error``); lines TeX cannot attribute (a missing package, a
runaway argument) are found in the user's sources instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from agents.latex.suggestions import suggest

MAX_ITEMS = 50

FILE_LINE_RE = re.compile(r"^(?P<file>[^\s:()][^:()]*\.[A-Za-z]{1,8}):(?P<line>\d+): (?P<msg>.*)$")
BANG_RE = re.compile(r"^! (?P<msg>.*)$")
CONTEXT_LINE_RE = re.compile(r"^l\.(?P<line>\d+) (?P<text>.*)$")
FILE_TOKEN_RE = re.compile(r"\((?P<path>[^\s()]+)|\)")
ON_LINE_RE = re.compile(r"on input line (\d+)\.?")
AT_LINES_RE = re.compile(r"at lines? (\d+)(?:--\d+)?")
LAST_CS_RE = re.compile(r"(\\(?:[A-Za-z@]+|.))\s*$")
NOT_FOUND_RE = re.compile(r"File [`'](?P<name>[^']+)' not found")
SCAN_USE_RE = re.compile(r"(?:while scanning use of|before) (\\[A-Za-z@]+)")
ENV_UNDEF_RE = re.compile(r"Environment (\S+) undefined")
UNICODE_RE = re.compile(r"Unicode character (.+?) \((U\+[0-9A-F]+)\)")
BIBTEX_LINE_RE = re.compile(r"---line (\d+) of file (\S+)")
#: What TeX prints when a document reads the terminal (\typein, \read16) in nonstopmode.
NO_TERMINAL = "*** (cannot \\read from terminal in nonstop modes)"
#: ... and when the answers given (scroll mode, `terminal_input`) ran out.
TERMINAL_EOF = "End of file on the terminal!"
#: Log lines that are TeX's own bookkeeping, not text a document printed.
LOG_NOISE = ("(", ")", "\\", "File:", "Package:", "Document Class:", "LaTeX Font Info:")
COMMAND_LINE_RE = re.compile(r"^\*\*[^*\s]|.*Warning")  # TeX's echo of its command line


@dataclass
class Diagnostic:
    kind: str
    message: str
    file: str | None = None
    line: int | None = None
    context: str | None = None
    suggestion: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def view(self) -> dict[str, Any]:
        data = asdict(self)
        extra = data.pop("extra")
        data.update(extra)
        return {k: v for k, v in data.items() if v is not None}


@dataclass
class Diagnostics:
    errors: list[Diagnostic]
    warnings: list[Diagnostic]
    truncated: bool = False


def _clean_file(path: str) -> str:
    path = path.strip()
    if path.startswith("./"):
        path = path[2:]
    if path.startswith("/work/"):
        path = path[len("/work/") :]
    return path


def _is_user_file(path: str | None) -> bool:
    return bool(path) and not str(path).startswith("/")


class _FileStack:
    """Which file TeX was reading: ``(./file.tex`` opens, ``)`` closes (heuristic)."""

    def __init__(self) -> None:
        self.stack: list[str] = []

    def feed(self, line: str) -> None:
        for match in FILE_TOKEN_RE.finditer(line):
            path = match.group("path")
            if path is None:
                if self.stack:
                    self.stack.pop()
            else:
                looks_like_file = "." in path.rsplit("/", 1)[-1] or "/" in path
                self.stack.append(_clean_file(path) if looks_like_file else "")

    def current(self) -> str | None:
        for path in reversed(self.stack):
            if path:
                return path
        return None

    def current_user_file(self) -> str | None:
        for path in reversed(self.stack):
            if path and _is_user_file(path):
                return path
        return None


def _find_in_sources(sources: Mapping[str, str], needles: list[str]) -> tuple[str, int] | None:
    """The first (file, line) whose text contains one of ``needles`` (in order of preference)."""
    for needle in needles:
        if not needle:
            continue
        for name, text in sources.items():
            for number, line in enumerate(text.splitlines(), 1):
                code = line.split("%", 1)[0] if "\\%" not in line else line
                if needle in code:
                    return name, number
    return None


def _classify(message: str) -> str:
    m = message
    rules = [
        ("Undefined control sequence", "undefined_control_sequence"),
        ("not loadable", "missing_font"),
        ("I can't write on file", "file_access_denied"),
        ("I can't open file", "file_access_denied"),
        ("not found", "missing_file"),
        ("Missing $ inserted", "missing_dollar"),
        ("Display math should end with $$", "missing_dollar"),
        ("Missing \\begin{document}", "missing_begin_document"),
        ("Paragraph ended before", "runaway_argument"),
        ("File ended while scanning", "runaway_argument"),
        ("Runaway argument", "runaway_argument"),
        ("Environment", "undefined_environment"),
        ("ended by \\end", "mismatched_environment"),
        ("Unicode character", "unsupported_unicode"),
        ("Extra }, or forgotten", "unbalanced_braces"),
        ("Too many }'s", "unbalanced_braces"),
        ("Missing } inserted", "unbalanced_braces"),
        ("Missing { inserted", "unbalanced_braces"),
        ("Extra alignment tab", "alignment"),
        ("Misplaced alignment tab", "alignment"),
        ("Double superscript", "double_script"),
        ("Double subscript", "double_script"),
        ("Missing number", "missing_number"),
        ("Illegal unit", "missing_number"),
        ("TeX capacity exceeded", "capacity_exceeded"),
        ("Emergency stop", "emergency_stop"),
        ("no legal \\end found", "missing_end_document"),
        ("Fatal error occurred", "fatal"),
        ("Can be used only in preamble", "preamble_only"),
        ("There's no line here to end", "no_line_to_end"),
        ("Option clash", "option_clash"),
        ("Something's wrong--perhaps a missing \\item", "missing_item"),
    ]
    for needle, kind in rules:
        if needle in m and (kind != "undefined_environment" or "undefined" in m):
            return kind
    return "latex_error"


def _blocks(lines: list[str]) -> Iterator[tuple[int, re.Match[str] | None, re.Match[str] | None]]:
    for i, line in enumerate(lines):
        fl = FILE_LINE_RE.match(line)
        if fl:
            yield i, fl, None
            continue
        bang = BANG_RE.match(line)
        if bang:
            yield i, None, bang


def parse_log(
    log: str, *, sources: Mapping[str, str] | None = None, main_file: str = "main.tex"
) -> Diagnostics:
    sources = sources or {}
    lines = log.splitlines()
    errors: list[Diagnostic] = []
    warnings: list[Diagnostic] = []
    starts = {i for i, _, _ in _blocks(lines)}
    stack = _FileStack()
    pending_runaway: str | None = None
    for i, line in enumerate(lines):
        if line.startswith("Runaway argument?"):
            pending_runaway = lines[i + 1] if i + 1 < len(lines) else ""
            continue
        if i in starts:
            error = _error_at(
                lines,
                i,
                starts=starts,
                stack=stack,
                sources=sources,
                main_file=main_file,
                runaway=pending_runaway,
            )
            if error.kind == "emergency_stop":
                after = lines[i + 1 : i + 8]
                if any(ln.startswith(NO_TERMINAL) for ln in after):
                    _terminal_input(error, lines, i)
                elif any(ln.startswith(TERMINAL_EOF) for ln in after):
                    _terminal_input(error, lines, i, answers_ran_out=True)
            errors.append(error)
            pending_runaway = None
            continue
        warning = _warning(line, lines, i, stack, main_file)
        if warning is not None:
            warnings.append(warning)
        stack.feed(line)
    errors = _dedupe([e for e in errors if e.kind not in ("fatal",)])
    if any(e.kind not in ("emergency_stop",) for e in errors):
        errors = [e for e in errors if e.kind != "emergency_stop"]
    warnings = _dedupe(warnings)
    truncated = len(errors) > MAX_ITEMS or len(warnings) > MAX_ITEMS
    for d in errors + warnings:
        d.suggestion = d.suggestion or suggest(d.kind, d.extra)
    return Diagnostics(errors[:MAX_ITEMS], warnings[:MAX_ITEMS], truncated)


def _error_at(
    lines: list[str],
    i: int,
    *,
    starts: set[int],
    stack: _FileStack,
    sources: Mapping[str, str],
    main_file: str,
    runaway: str | None,
) -> Diagnostic:
    fl = FILE_LINE_RE.match(lines[i])
    if fl:
        file: str | None = _clean_file(fl.group("file"))
        line_no: int | None = int(fl.group("line"))
        message = fl.group("msg").strip()
    else:
        bang = BANG_RE.match(lines[i])
        assert bang is not None
        file, line_no, message = stack.current_user_file(), None, bang.group("msg").strip()
    message = message.removeprefix("LaTeX Error: ").strip()
    context = top_context = None
    for j in range(i + 1, min(len(lines), i + 12)):
        if j in starts:
            break
        if top_context is None and lines[j].strip():
            top_context = lines[j]
        ctx = CONTEXT_LINE_RE.match(lines[j])
        if ctx:
            context = ctx.group("text").strip()
            line_no = line_no if line_no is not None else int(ctx.group("line"))
            break
    kind = _classify(message if not runaway else "Runaway argument " + message)
    d = Diagnostic(kind=kind, message=message, file=file, line=line_no, context=context)
    _enrich(d, top_context=top_context, sources=sources, runaway=runaway)
    if d.file is None and d.line is not None:
        d.file = main_file
    return d


def _terminal_input(
    d: Diagnostic, lines: list[str], i: int, *, answers_ran_out: bool = False
) -> None:
    """An emergency stop because the document waited for an answer from the terminal."""
    prompt: list[str] = []
    for text in reversed(lines[max(0, i - 8) : i]):
        if not text.strip() or text.startswith(LOG_NOISE) or COMMAND_LINE_RE.match(text):
            break
        prompt.insert(0, text.strip())
    d.kind = "terminal_input"
    asks = f"; it asks: {' '.join(prompt)[:300]}" if prompt else ""
    d.message = (
        "the document waits for input from the terminal (\\typein or \\read16) and "
        + ("`terminal_input` has no more answers" if answers_ran_out else "a compile cannot answer")
        + asks
    )
    if prompt:
        d.extra["prompt"] = " ".join(prompt)[:300]


def _enrich(
    d: Diagnostic, *, top_context: str | None, sources: Mapping[str, str], runaway: str | None
) -> None:
    """Kind-specific facts: the undefined command, the missing file's line, the runaway's line."""
    if d.kind == "undefined_control_sequence" and top_context:
        text = CONTEXT_LINE_RE.match(top_context)
        tail = text.group("text") if text else top_context.split(" ", 1)[-1]
        cs = LAST_CS_RE.search(tail.rstrip())
        if cs:
            d.extra["command"] = cs.group(1)
    elif d.kind == "missing_file":
        nf = NOT_FOUND_RE.search(d.message)
        if nf:
            name = nf.group("name")
            d.extra["missing"] = name
            stem = name.rsplit(".", 1)[0]
            needles = [f"{{{stem}}}", f",{stem}}}", f"{{{stem},", f",{stem},", f"{{{name}}}", stem]
            found = _find_in_sources(sources, needles)
            if found:
                d.file, d.line = found
            if name.startswith(("/", "~")) or "../" in name:
                d.kind = "file_access_denied"
                d.message += " (reading outside the compile directory is not allowed)"
    elif d.kind == "runaway_argument":
        macro = SCAN_USE_RE.search(d.message)
        if macro:
            d.extra["command"] = macro.group(1)
        if runaway:
            start = runaway.lstrip("{").split("\\par")[0].strip()[:40]
            needles = [f"{macro.group(1)}{{{start}"] if macro else []
            found = _find_in_sources(sources, [*needles, start])
            if found:
                d.file, d.line = found
    elif d.kind == "undefined_environment":
        env = ENV_UNDEF_RE.search(d.message)
        if env:
            d.extra["environment"] = env.group(1)


def _continued(first: str, lines: list[str], i: int, name: str) -> str:
    """A warning's text with its continuation lines (``(name)   more text``)."""
    text = first.strip()
    prefix = f"({name})"
    for follow in lines[i + 1 : i + 12]:
        if not follow.startswith(prefix):
            break
        text += " " + follow[len(prefix) :].strip()
    return text


def _warning(
    line: str, lines: list[str], i: int, stack: _FileStack, main_file: str
) -> Diagnostic | None:
    def where(text: str) -> tuple[str | None, int | None]:
        """The file TeX was reading (a package's file is named as such) and the line."""
        m = ON_LINE_RE.search(text) or AT_LINES_RE.search(text)
        current = stack.current()
        if current and not _is_user_file(current):  # raised while reading an installed file
            return current.rsplit("/", 1)[-1], int(m.group(1)) if m else None
        return (current or main_file, int(m.group(1))) if m else (None, None)

    def located(d: Diagnostic) -> Diagnostic:
        current = stack.current()
        if current and not _is_user_file(current) and d.file == current.rsplit("/", 1)[-1]:
            d.extra["package_file"] = current
        return d

    m = re.match(r"^LaTeX Warning: (Reference|Citation) [`'](.+?)' on page \S+ undefined", line)
    if m:
        file, no = where(line)
        kind = "undefined_reference" if m.group(1) == "Reference" else "undefined_citation"
        d = Diagnostic(kind, line.removeprefix("LaTeX Warning: "), file, no)
        d.extra["key"] = m.group(2)
        return located(d)
    m = re.match(r"^LaTeX Warning: Label [`'](.+?)' multiply defined", line)
    if m:
        d = Diagnostic("multiply_defined_label", line.removeprefix("LaTeX Warning: "))
        d.extra["key"] = m.group(1)
        return d
    if line.startswith("LaTeX Warning: Label(s) may have changed"):
        return Diagnostic("rerun_needed", line.removeprefix("LaTeX Warning: "))
    if line.startswith(("Overfull \\hbox", "Overfull \\vbox")):
        file, no = where(line)
        return located(Diagnostic("overfull_box", line.strip(), file, no))
    m = re.match(r"^(?:Package|Class) (\S+) Warning: (.*)$", line)
    if m:
        text = _continued(m.group(2), lines, i, m.group(1))
        file, no = where(text)
        d = Diagnostic("package_warning", text, file, no)
        d.extra["package"] = m.group(1)
        return located(d)
    m = re.match(r"^LaTeX Font Warning: (.*)$", line)
    if m:
        text = _continued(m.group(1), lines, i, "Font")
        file, no = where(text)
        return located(Diagnostic("font_warning", text, file, no))
    m = re.match(r"^LaTeX Warning: (.*)$", line)
    if m and "There were undefined references" not in line:
        text = _continued(m.group(1), lines, i, "LaTeX")
        file, no = where(text)
        return located(Diagnostic("latex_warning", text, file, no))
    if line.startswith("runsystem("):
        command = line[len("runsystem(") :].rsplit(")...", 1)[0]
        d = Diagnostic("shell_escape_blocked", f"shell escape is disabled: `{command}` was not run")
        d.extra["command"] = command
        return d
    if line.startswith("Missing character: There is no"):
        return Diagnostic("missing_character", line.strip())
    return None


def parse_bibtex_output(output: str) -> list[Diagnostic]:
    """BibTeX's own errors (printed by latexmk's run), e.g. a .bib syntax error."""
    found: list[Diagnostic] = []
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(("I couldn't open database file", "I couldn't open style file")):
            found.append(Diagnostic("bibtex_error", line.strip()))
        m = BIBTEX_LINE_RE.search(line)
        if m:
            message = line[: m.start()].strip() or (lines[i - 1].strip() if i else "")
            file, number = _clean_file(m.group(2)), int(m.group(1))
            found.append(Diagnostic("bibtex_error", message or "BibTeX error", file, number))
    for d in found:
        d.suggestion = suggest(d.kind, d.extra)
    return _dedupe(found)


def _dedupe(items: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple[str, str | None, int | None, str]] = set()
    out = []
    for d in items:
        key = (d.kind, d.file, d.line, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out

"""The LaTeX worker's CPU-heavy step, run in the compute pool's child processes.

Reading a TeX log into diagnostics (:func:`~agents.latex.diagnostics.parse_log`,
BibTeX's output, locating each error in the sources) is pure-Python regular
expression work over up to 3 MB of log (``tex_outcome.LOG_HEAD + LOG_TAIL``) and
the project's text files. In a thread it would hold the GIL and could not be
stopped; on the event loop a hostile log would stall ``/ready`` and every other
command. In a child the pool stops it at its limit (``LOG_PARSE_TIME_LIMIT``) or
at the command's deadline. The TeX run itself is a subprocess already (see
``latexmk_tex_runner.py``).
"""

from __future__ import annotations

from collections.abc import Mapping

from agents.latex.diagnostics import Diagnostic, parse_bibtex_output, parse_log

#: The project files the diagnostics may quote (and locate errors in), by extension.
TEXT_SOURCES = (".tex", ".ltx", ".sty", ".cls", ".bib", ".def", ".cfg")


def text_sources(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """The files the diagnose step reads (no images or fonts cross the process boundary)."""
    return {path: data for path, data in files.items() if path.lower().endswith(TEXT_SOURCES)}


def diagnose_step(
    log: str, runner_output: str, sources: Mapping[str, bytes], main_file: str
) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """The errors (TeX's and BibTeX's) and the warnings of one compile."""
    texts = {path: data.decode("utf-8", errors="replace") for path, data in sources.items()}
    diag = parse_log(log, sources=texts, main_file=main_file)
    return diag.errors + parse_bibtex_output(runner_output), diag.warnings

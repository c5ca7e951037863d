"""The diagnostics parser on real TeX logs (committed under logs/, sources below)."""

from __future__ import annotations

from pathlib import Path

from agents.latex import diagnostics, suggestions
from agents.latex.diagnostics import parse_bibtex_output, parse_log

LOGS = Path(__file__).parent / "logs"

WARNINGS_TEX = r"""\documentclass{article}
\usepackage{fixltx2e}
\usepackage{hyperref}
\begin{document}
\section{Intro $x^2$}
\textsc{\textbf{Bold small caps}} text.
\end{document}
"""
TERMINAL_TEX = r"""\documentclass{article}
\typeout{Which paper size?}
\typein[\papertype]{Answer please}
\begin{document}
x
\end{document}
"""


def log(name: str) -> str:
    return (LOGS / name).read_text()


def test_a_warning_raised_inside_an_installed_package_names_the_package_file():
    d = parse_log(log("warnings.log"), sources={"warnings.tex": WARNINGS_TEX}, main_file="w.tex")
    fix = next(w for w in d.warnings if w.extra.get("package") == "fixltx2e")
    assert fix.file == "fixltx2e.sty" and fix.line is None  # not the user's file or line
    assert fix.extra["package_file"].endswith("/tex/latex/base/fixltx2e.sty")
    # all three lines of it, not only the first
    assert fix.message == (
        "fixltx2e is not required with releases after 2015 All fixes are now in the "
        "LaTeX kernel. See the latexrelease package for details."
    )


def test_a_package_warning_about_the_users_line_keeps_that_line():
    d = parse_log(log("warnings.log"), main_file="warnings.tex")
    tokens = [w for w in d.warnings if w.extra.get("package") == "hyperref"]
    assert {(w.file, w.line) for w in tokens} == {("warnings.tex", 5)}
    assert {w.message.split(": ", 1)[1] for w in tokens} == {
        "removing `math shift' on input line 5.",
        "removing `superscript' on input line 5.",
    }
    assert "package_file" not in tokens[0].extra


def test_a_font_warning_keeps_its_continuation_line():
    d = parse_log(log("warnings.log"), main_file="warnings.tex")
    fonts = [w for w in d.warnings if w.kind == "font_warning"]
    assert fonts[0].message == (
        "Font shape `OT1/cmr/bx/sc' undefined using `OT1/cmr/bx/n' instead on input line 6."
    )
    assert (fonts[0].file, fonts[0].line) == ("warnings.tex", 6)
    rerun = next(w for w in d.warnings if w.extra.get("package") == "rerunfilecheck")
    assert rerun.message.endswith("Rerun to get outlines right or use package `bookmark'.")


def test_a_line_in_a_package_file_is_reported_against_that_file():
    text = "\n".join(
        [
            "(./main.tex",
            "(/usr/share/texlive/texmf-dist/tex/latex/foo/foo.sty",
            "Package foo Warning: option `bar' is obsolete",
            "(foo)                use `baz' on input line 42.",
            ")",
            "LaTeX Warning: Reference `x' on page 1 undefined on input line 7.",
            ")",
        ]
    )
    foo, ref = parse_log(text).warnings
    assert (foo.file, foo.line) == ("foo.sty", 42)
    assert foo.extra["package_file"] == "/usr/share/texlive/texmf-dist/tex/latex/foo/foo.sty"
    assert foo.message == "option `bar' is obsolete use `baz' on input line 42."
    assert (ref.file, ref.line) == ("main.tex", 7)


def test_typein_says_the_document_waits_for_the_terminal():
    d = parse_log(
        log("terminal.log"), sources={"terminal.tex": TERMINAL_TEX}, main_file="terminal.tex"
    )
    (err,) = d.errors
    assert err.kind == "terminal_input" and (err.file, err.line) == ("terminal.tex", 3)
    assert "waits for input from the terminal" in err.message
    assert "Emergency stop" not in err.message
    assert err.extra["prompt"] == "Which paper size? Answer please"
    assert err.suggestion and "terminal_input" in err.suggestion


def test_latex_testpage_shows_its_question():
    (err,) = parse_log(log("testpage.log"), main_file="testpage.tex").errors
    assert err.kind == "terminal_input" and err.line == 40
    assert "Type paper type in form of document class option" in err.extra["prompt"]
    assert "`a4paper' or `letterpaper'" in err.message


def test_read16_says_the_document_waits_for_the_terminal():
    (err,) = parse_log(log("read16.log"), main_file="read16.tex").errors
    assert err.kind == "terminal_input" and err.line == 3 and err.context == "\\read16 to \\answer"


def test_suggestions_do_not_import_diagnostics():
    # the two modules used to import each other; suggestions now take plain facts
    source = Path(suggestions.__file__).read_text()
    assert "agents.latex.diagnostics" not in source and "TYPE_CHECKING" not in source
    assert diagnostics.suggest is suggestions.suggest
    assert "x.sty is not installed" in (
        suggestions.suggest("missing_file", {"missing": "x.sty"}) or ""
    )


def lines(*body: str) -> str:
    return "\n".join(body) + "\n"


def test_parse_multiline_package_warning_and_overfull_box():
    log = lines(
        "(./main.tex",
        "Package hyperref Warning: Token not allowed in a PDF string (Unicode):",
        "(hyperref)                removing `math shift' on input line 7.",
        "Overfull \\hbox (12.3pt too wide) in paragraph at lines 10--12",
        ")",
    )
    d = parse_log(log)
    pkg, box = d.warnings
    assert pkg.kind == "package_warning" and pkg.line == 7 and pkg.extra["package"] == "hyperref"
    assert "removing `math shift'" in pkg.message
    assert box.kind == "overfull_box" and box.line == 10 and box.file == "main.tex"
    assert d.errors == []


def test_bibtex_output_parser():
    out = lines(
        "I was expecting a `,' or a `}'---line 2 of file refs.bib",
        " : @book{b title",
        "I couldn't open database file nothere.bib",
    )
    found = parse_bibtex_output(out)
    assert [(d.file, d.line) for d in found] == [("refs.bib", 2), (None, None)]
    assert all(d.suggestion for d in found)

"""Documents with the common errors: the right structured error, line and suggested fix."""

from __future__ import annotations

import pytest

from agents.latex.handlers import CompilePolicy, handle_compile
from agents.latex.messages import CompileDocument, InputFile
from enginedge_streams.errors import PermanentError
from tests.unit.latex.conftest import context

pytestmark = pytest.mark.timeout(120)


async def failing(runner, store, main: str, files=()):
    cmd = CompileDocument(main=main, files=list(files))
    with pytest.raises(PermanentError) as exc:
        await handle_compile(
            cmd, tex=runner, artifacts=store, policy=CompilePolicy(), ctx=context()
        )
    assert exc.value.code == "LATEX_ERROR"
    return exc.value


def lines(*body: str) -> str:
    return "\n".join(body) + "\n"


CASES = [
    (
        "undefined_control_sequence",
        lines(
            "\\documentclass{article}",
            "\\begin{document}",
            "Hello.",
            "",
            "Some \\foo{bar} text.",
            "\\end{document}",
        ),
        5,
        ["\\foo is not defined", "spelling"],
    ),
    (
        "missing_file",
        lines(
            "\\documentclass{article}",
            "\\usepackage{amsmath}",
            "\\usepackage{notapackagexyz}",
            "\\begin{document}",
            "x",
            "\\end{document}",
        ),
        3,
        ["notapackagexyz.sty is not installed", "upload"],
    ),
    (
        "missing_dollar",
        lines(
            "\\documentclass{article}",
            "\\begin{document}",
            "Fine line.",
            "Here x_1 is math.",
            "\\end{document}",
        ),
        4,
        ["$...$", "\\_"],
    ),
    (
        "runaway_argument",
        lines(
            "\\documentclass{article}",
            "\\begin{document}",
            "Ok.",
            "\\textbf{never closed",
            "",
            "More text.",
            "\\end{document}",
        ),
        4,
        ["\\textbf", "closing brace"],
    ),
    (
        "missing_begin_document",
        lines(
            "\\documentclass{article}",
            "\\usepackage{amsmath}",
            "Stray words here.",
            "\\begin{document}",
            "x",
            "\\end{document}",
        ),
        3,
        ["before \\begin{document}"],
    ),
    (
        "undefined_environment",
        lines(
            "\\documentclass{article}",
            "\\begin{document}",
            "\\begin{align}",
            "a &= b",
            "\\end{align}",
            "\\end{document}",
        ),
        3,
        ["amsmath"],
    ),
    (
        "undefined_control_sequence",
        lines(
            "\\documentclass{article}",
            "\\begin{document}",
            "\\includegraphics{x.png}",
            "\\end{document}",
        ),
        3,
        ["graphicx"],
    ),
    (
        "alignment",
        lines("\\documentclass{article}", "\\begin{document}", "Tom & Jerry", "\\end{document}"),
        3,
        ["\\&"],
    ),
]


@pytest.mark.parametrize(
    ("kind", "main", "line", "hints"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES]
)
async def test_common_errors_have_the_right_kind_line_and_fix(
    kind, main, line, hints, runner, store
):
    err = await failing(runner, store, main)
    first = err.details["errors"][0]
    assert first["kind"] == kind, err.details["errors"]
    assert first["line"] == line and first["file"] == "main.tex"
    for hint in hints:
        assert hint in first["suggestion"], first["suggestion"]
    assert f"main.tex:{line}:" in err.message
    assert err.details["log"] and err.details["duration_ms"] > 0


async def test_error_in_an_included_file_names_that_file(runner, store):
    main = lines(
        "\\documentclass{article}", "\\begin{document}", "\\input{part}", "\\end{document}"
    )
    part = lines("First line of the part.", "Second has \\undefinedthing here.")
    err = await failing(runner, store, main, [InputFile(path="part.tex", content=part)])
    first = err.details["errors"][0]
    assert (first["file"], first["line"], first["command"]) == ("part.tex", 2, "\\undefinedthing")


async def test_undefined_reference_and_citation_are_warnings_with_lines(runner, store):
    main = lines(
        "\\documentclass{article}",
        "\\begin{document}",
        "\\section{A}\\label{sec:a}",
        "See \\ref{sec:missing}.",
        "As shown by \\cite{ghost2020}.",
        "\\end{document}",
    )
    out = await handle_compile(
        CompileDocument(main=main),
        tex=runner,
        artifacts=store,
        policy=CompilePolicy(),
        ctx=context(),
    )
    by_kind = {w["kind"]: w for w in out["warnings"]}
    ref, cite = by_kind["undefined_reference"], by_kind["undefined_citation"]
    assert (ref["key"], ref["line"], ref["file"]) == ("sec:missing", 4, "main.tex")
    assert (cite["key"], cite["line"]) == ("ghost2020", 5)
    assert "\\label{sec:missing}" in ref["suggestion"] and ".bib" in cite["suggestion"]
    assert out["artifact"]["pages"] == 1  # warnings do not fail the compile


async def test_bibtex_syntax_error_is_reported_with_its_line(runner, store):
    main = lines(
        "\\documentclass{article}",
        "\\begin{document}",
        "\\cite{a}",
        "\\bibliographystyle{plain}",
        "\\bibliography{refs}",
        "\\end{document}",
    )
    bib = "@book{a, title={T}, year={2000}\n@book{b title={U}}\n"
    cmd = CompileDocument(main=main, files=[InputFile(path="refs.bib", content=bib)])
    try:
        out = await handle_compile(
            cmd, tex=runner, artifacts=store, policy=CompilePolicy(), ctx=context()
        )
    except PermanentError as exc:
        errors = exc.details["errors"]
    else:
        errors = out["errors"]
    bib_errors = [e for e in errors if e["kind"] == "bibtex_error"]
    assert bib_errors and bib_errors[0]["file"] == "refs.bib" and bib_errors[0]["line"] >= 1

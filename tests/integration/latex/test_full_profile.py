"""The larger TeX installation (TEX_PROFILE=full): real-document packages work in the sandbox.

Skipped on the base installation (the default; `make system-deps TEX_PROFILE=full`).
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from agents.latex.handlers import CompilePolicy, handle_compile
from agents.latex.messages import CompileDocument, InputFile
from tests.integration.latex.conftest import pdf_text
from tests.unit.latex.conftest import context

FULL = ("IEEEtran.cls", "biblatex.sty", "algpseudocode.sty", "tracklang.sty", "datetime2.sty")


def _installed(name: str) -> bool:
    found = subprocess.run(["kpsewhich", name], capture_output=True, text=True, check=False)
    return bool(found.stdout.strip())


pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(
        not shutil.which("kpsewhich")
        or not shutil.which("biber")
        or not all(_installed(n) for n in FULL),
        reason="the full TeX profile is not installed (make system-deps TEX_PROFILE=full)",
    ),
]

PAPER = r"""\documentclass[conference]{IEEEtran}
\usepackage[backend=biber,style=ieee]{biblatex}
\addbibresource{refs.bib}
\usepackage{algorithm}
\usepackage{algpseudocode}
\usepackage[en-GB]{datetime2}
\begin{document}
\title{Streams}\author{A. Writer}\maketitle
As shown by \cite{knuth}, dated \DTMdate{2024-05-01}.
\begin{algorithm}\caption{Echo}\begin{algorithmic}[1]
\State $x \gets 1$ \Comment{start}
\end{algorithmic}\end{algorithm}
\printbibliography
\end{document}
"""
BIB = "@book{knuth, author={Donald Knuth}, title={The TeXbook}, year={1984}, publisher={AW}}\n"


@pytest.mark.parametrize("engine", ["pdflatex", "lualatex"])
async def test_ieeetran_biblatex_biber_algorithmicx_datetime2(engine, runner, store, tmp_path):
    if engine not in runner.engines:
        pytest.skip(f"{engine} is not available here")
    cmd = CompileDocument(
        main=PAPER, engine=engine, files=[InputFile(path="refs.bib", content=BIB)]
    )
    out = await handle_compile(
        cmd, tex=runner, artifacts=store, policy=CompilePolicy(), ctx=context()
    )
    assert out["errors"] == [] and out["tool_runs"].get("biber") == 1, out["log"][-2000:]
    _, pdf = await store.get(out["artifact"]["artifact_id"])
    text = pdf_text(pdf, tmp_path)
    assert "As shown by [1], dated 1st May 2024." in text  # biblatex + biber, datetime2
    assert "D. Knuth, The TeXbook" in text and "Algorithm 1 Echo" in text

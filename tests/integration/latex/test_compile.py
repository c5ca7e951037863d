"""Real compiles on Debian's TeX Live through the sandboxed runner and the handler."""

from __future__ import annotations

import asyncio
import base64
import struct
import zlib

import pytest

from agents.latex.handlers import CompilePolicy, artifact_id_for, handle_compile
from agents.latex.messages import CompileDocument, InputFile
from agents.latex.ports import CompileJob
from enginedge_streams.errors import (
    PermanentError,
)
from tests.integration.latex.conftest import make_runner, pdf_pages, pdf_text
from tests.unit.latex.conftest import context

pytestmark = pytest.mark.timeout(120)

PAPER = r"""\documentclass{article}
\usepackage{amsmath}
\begin{document}
\tableofcontents
\section{Introduction}\label{sec:intro}
Energy is given by Equation~\eqref{eq:energy} and discussed in Section~\ref{sec:method},
following \cite{knuth84}.
\begin{equation}\label{eq:energy}
  E = mc^2 + \int_0^1 x^2\,dx
\end{equation}
\newpage
\section{Method}\label{sec:method}
We refer back to Section~\ref{sec:intro}.
\newpage
\bibliographystyle{plain}
\bibliography{refs}
\end{document}
"""
BIB = "@book{knuth84, author={Donald E. Knuth}, title={The TeXbook}, year={1984}, publisher={Addison-Wesley}}\n"


async def compile_(cmd: CompileDocument, runner, store, policy=None, ctx=None):
    return await handle_compile(
        cmd, tex=runner, artifacts=store, policy=policy or CompilePolicy(), ctx=ctx or context()
    )


async def test_equations_references_toc_and_bibliography_resolve(runner, store, tmp_path):
    cmd = CompileDocument(main=PAPER, files=[InputFile(path="refs.bib", content=BIB)])
    out = await compile_(cmd, runner, store)
    artifact = out["artifact"]
    item = await store.get(artifact["artifact_id"])
    assert item is not None
    info, pdf = item
    assert pdf.startswith(b"%PDF") and info.size == len(pdf) == artifact["size"]
    assert artifact["pages"] == pdf_pages(pdf, tmp_path) == 3
    text = pdf_text(pdf, tmp_path)
    assert "Contents" in text and "1 Introduction" in text and "2 Method" in text
    assert "Equation (1)" in text and "Section 2" in text and "Section 1" in text
    assert "??" not in text  # every reference resolved
    assert "[1]" in text and "The TeXbook" in text and "Knuth" in text
    assert out["passes"] >= 2 and out["tool_runs"].get("bibtex", 0) >= 1
    assert out["errors"] == [] and out["duration_ms"] > 0
    assert not [w for w in out["warnings"] if w["kind"].startswith("undefined")]
    assert "Output written on main.pdf (3 pages" in out["log"]


@pytest.mark.parametrize("engine", ["xelatex", "lualatex"])
async def test_unicode_engines(engine, runner, store, tmp_path):
    if engine not in runner.engines:
        pytest.skip(f"{engine} needs bubblewrap here")
    doc = (
        "\\documentclass{article}\\usepackage{fontspec}\\begin{document}"
        "Grüße aus Zürich, naïve café.\\end{document}\n"
    )
    out = await compile_(CompileDocument(main=doc, engine=engine), runner, store)
    _, pdf = await store.get(out["artifact"]["artifact_id"])
    assert "Grüße aus Zürich, naïve café." in pdf_text(pdf, tmp_path)
    assert out["engine"] == engine and out["passes"] >= 1


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4))
    ihdr = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


async def test_extra_files_chapters_and_images(runner, store, tmp_path):
    main = (
        "\\documentclass{article}\\usepackage{graphicx}\\begin{document}\n"
        "\\input{chapters/one}\n\\includegraphics[width=2cm]{img/dot.png}\n\\end{document}\n"
    )
    cmd = CompileDocument(
        main=main,
        files=[
            InputFile(path="chapters/one.tex", content="Chapter one says hello.\n"),
            InputFile(path="img/dot.png", content_base64=base64.b64encode(tiny_png()).decode()),
        ],
        filename="book.pdf",
    )
    out = await compile_(cmd, runner, store)
    info, pdf = await store.get(out["artifact"]["artifact_id"])
    assert "Chapter one says hello." in pdf_text(pdf, tmp_path)
    assert info.filename == "book.pdf" and b"/Subtype /Image" in pdf


async def test_same_command_twice_overwrites_one_artifact(runner, store):
    cmd = CompileDocument(main="\\documentclass{article}\\begin{document}once\\end{document}")
    first = await compile_(cmd, runner, store, ctx=context("cmd-fixed-id-1"))
    second = await compile_(cmd, runner, store, ctx=context("cmd-fixed-id-1"))
    assert first["artifact"]["artifact_id"] == second["artifact"]["artifact_id"]
    assert first["artifact"]["artifact_id"] == artifact_id_for("cmd-fixed-id-1")
    blobs = list((store.root).glob("*/*.blob"))
    assert len(blobs) == 1


async def test_lualatex_is_refused_without_bubblewrap(tex_cache, tmp_path, store):
    runner = make_runner(tex_cache, tmp_path / "w", sandbox="none")
    await runner.start()
    assert "lualatex" not in runner.engines and "pdflatex" in runner.engines
    cmd = CompileDocument(main="x", engine="lualatex")
    with pytest.raises(PermanentError) as exc:
        await compile_(cmd, runner, store)
    assert exc.value.code == "ENGINE_UNAVAILABLE"


async def test_concurrent_compiles_are_bounded_and_workdirs_removed(tex_cache, tmp_path):
    runner = make_runner(tex_cache, tmp_path / "w", max_concurrent=1)
    await runner.start()
    peak = 0

    async def watch():
        nonlocal peak
        while True:
            peak = max(peak, runner.running)
            await asyncio.sleep(0.01)

    watcher = asyncio.create_task(watch())
    doc = b"\\documentclass{article}\\begin{document}x\\end{document}"
    jobs = [CompileJob("main.tex", {"main.tex": doc}) for _ in range(3)]
    outcomes = await asyncio.gather(*(runner.compile(j) for j in jobs))
    watcher.cancel()
    assert [o.outcome for o in outcomes] == ["ok"] * 3
    assert peak == 1
    await runner.stop()  # also ends a lualatex warm-up still running in the background
    leftovers = [p for p in (tmp_path / "w").iterdir() if p.name.startswith("latex-")]
    assert leftovers == []

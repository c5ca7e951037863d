"""LaTeX: `latex.compile` through the worker vs running latexmk directly on the same document.

* overhead: one compile at a time, end to end over Kafka (sandbox, limits, log
  parsing, artifact store included) vs ``latexmk -pdf`` in a fresh directory
  (median of N each; ratio target <= 1.1x);
* sandbox alone: the in-process runner (prlimit + bubblewrap) vs bare latexmk;
* throughput: compiles per minute with MAX_CONCURRENCY 2 vs 1 (a burst of
  compiles submitted at once to one worker), and bare latexmk with 2 vs 1
  parallel processes as the machine's own ceiling.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import BenchContext, Row, median

DOC = r"""\documentclass{article}
\usepackage{amsmath}
\begin{document}
\tableofcontents
\section{Introduction}\label{sec:intro}
The energy in Equation~\eqref{eq:e} is discussed in Section~\ref{sec:more}, after \cite{knuth}.
\begin{equation}\label{eq:e} E = mc^2 + \sum_{i=1}^{n} \frac{1}{i^2} \end{equation}
\section{More}\label{sec:more}
Back to Section~\ref{sec:intro}. \newpage
\bibliographystyle{plain}
\bibliography{refs}
\end{document}
"""
BIB = "@book{knuth, author={Donald Knuth}, title={The TeXbook}, year={1984}, publisher={AW}}\n"
PAYLOAD = {"main": DOC, "files": [{"path": "refs.bib", "content": BIB}]}


def latexmk_direct() -> float:
    with tempfile.TemporaryDirectory(prefix="bench-latex-") as tmp:
        Path(tmp, "main.tex").write_text(DOC)
        Path(tmp, "refs.bib").write_text(BIB)
        t0 = time.perf_counter()
        subprocess.run(
            ["latexmk", "-norc", "-pdf", "-bibtex-cond", "-interaction=nonstopmode",
             "-file-line-error", "-no-shell-escape", "-e", "$max_repeat=5", "main.tex"],
            cwd=tmp, capture_output=True, check=True,
        )  # fmt: skip
        elapsed = time.perf_counter() - t0
        assert Path(tmp, "main.pdf").stat().st_size > 1000
    return elapsed


async def direct_burst(n: int, parallel: int) -> float:
    sem = asyncio.Semaphore(parallel)

    async def one() -> None:
        async with sem:
            await asyncio.to_thread(latexmk_direct)

    t0 = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    return n / (time.perf_counter() - t0) * 60


async def make_runner(tmp: Path):
    from agents.latex.latexmk_tex_runner import LatexmkTexRunner
    from agents.latex.sandbox import Limits

    runner = LatexmkTexRunner(
        limits=Limits(60, 2 << 30, 20_000_000), max_workdir_bytes=200_000_000, max_concurrent=1,
        engines=("pdflatex",), work_root=tmp / "runner", cache_dir=None,
    )  # fmt: skip
    await runner.start()
    print(f"  runner sandbox mode: {runner.mode}")
    return runner


async def runner_once(runner) -> float:
    from agents.latex.ports import CompileJob

    job = CompileJob("main.tex", {"main.tex": DOC.encode(), "refs.bib": BIB.encode()})
    t0 = time.perf_counter()
    outcome = await runner.compile(job)
    assert outcome.outcome == "ok", outcome.detail
    return time.perf_counter() - t0


async def start_worker(ctx: BenchContext, concurrency: int):
    prefix = f"{ctx.prefix}c{concurrency}."
    worker = ctx.worker(
        "latex",
        env={
            "MAX_CONCURRENCY": str(concurrency),
            "ARTIFACT_STORE_DIR": str(ctx.tmp / f"artifacts-{concurrency}"),
            "LATEX_CACHE_DIR": str(ctx.tmp / "latex-cache"),
            "LATEX_ENGINES": "pdflatex",
        },
        prefix=prefix,
    )
    bus = await ctx.bus(prefix=prefix)
    warm = await bus.call("latex", "latex.compile", PAYLOAD, timeout=120)
    assert warm.status.value == "COMPLETED", warm.error
    return worker, bus


async def worker_once(bus) -> float:
    t0 = time.perf_counter()
    result = await bus.call("latex", "latex.compile", PAYLOAD, timeout=120)
    assert result.status.value == "COMPLETED", result.error
    return time.perf_counter() - t0


async def worker_burst(bus, n: int) -> float:
    t0 = time.perf_counter()
    results = await asyncio.gather(
        *(bus.call("latex", "latex.compile", PAYLOAD, timeout=600) for _ in range(n))
    )
    assert all(r.status.value == "COMPLETED" for r in results)
    return n / (time.perf_counter() - t0) * 60


async def run(ctx: BenchContext) -> list[Row]:
    if shutil.which("latexmk") is None:
        raise RuntimeError("TeX Live is not installed (make setup)")
    reps = 4 if ctx.quick else 9
    n = 6 if ctx.quick else 16
    latexmk_direct()  # warm the page cache
    runner = await make_runner(ctx.tmp)
    worker, bus = await start_worker(ctx, 1)
    # Interleaved, so load from anything else on the machine hits all three alike.
    direct, sandboxed, over_bus = [], [], []
    for _ in range(reps):
        direct.append(latexmk_direct())
        sandboxed.append(await runner_once(runner))
        over_bus.append(await worker_once(bus))
    rate1 = await worker_burst(bus, n)
    direct1 = await direct_burst(n, 1)
    ctx.record_peak(worker)
    worker.stop(timeout=30)
    worker2, bus2 = await start_worker(ctx, 2)
    rate2 = await worker_burst(bus2, n)
    direct2 = await direct_burst(n, 2)
    ctx.record_peak(worker2)
    worker2.stop(timeout=30)
    doc = "3-page article: TOC, refs, equation, BibTeX (3 pdflatex runs + bibtex)"
    return [
        Row("compile latency, worker over Kafka vs latexmk", median(over_bus) * 1000,
            median(direct) * 1000, "ms (median)", "<= 1.1x", f"{doc}; MAX_CONCURRENCY=1"),
        Row("compile latency, sandboxed runner vs latexmk", median(sandboxed) * 1000,
            median(direct) * 1000, "ms (median)", "<= 1.1x", "prlimit + bubblewrap, no Kafka"),
        Row("compiles/min, MAX_CONCURRENCY 2 vs 1", rate2, rate1, "compiles/min", "higher",
            f"burst of {n} on one worker; 2 cores"),
        Row("compiles/min, bare latexmk 2 vs 1 parallel", direct2, direct1, "compiles/min",
            "reference", "the machine's own ceiling"),
        Row("compiles/min at MAX_CONCURRENCY 2, worker vs bare latexmk x2", rate2, direct2,
            "compiles/min", ">= 0.9x", "same burst"),
    ]  # fmt: skip

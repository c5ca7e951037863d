"""Real documents through the real LaTeX worker (Kafka, Redis, TeX Live): the same page count
as latexmk on the same installation; hostile page floods and terminal reads fail clearly.

Corpus (tests/support/latex_corpus.py): TeX Live's sample2e, small2e and testpage (with its
two answers), and article/thesis templates from Debian's texlive-publishers-doc (pinned,
sha256-checked, fetched by apt-get download) with their classes from texlive-publishers.
Figures: docs/workers/latex.md.
"""

from __future__ import annotations

import asyncio
import base64
import shutil
import subprocess

import pytest

from enginedge_streams.records import Status
from tests.support.latex_corpus import (
    Document,
    latexmk_pages,
    published_documents,
    texlive_samples,
)
from tests.support.workers import latex_worker_env

pytestmark = [
    pytest.mark.timeout(600),
    pytest.mark.skipif(shutil.which("latexmk") is None, reason="TeX Live is not installed"),
]


@pytest.fixture(scope="module")
def latex_worker(module_worker_factory, tmp_path_factory):
    root = tmp_path_factory.mktemp("latex-corpus-worker")
    return module_worker_factory(
        "latex",
        env=latex_worker_env(root, timeout_s=120, LATEX_MAX_PAGES="100"),
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[tuple[Document, tuple[int | None, bool]]]:
    try:
        published = published_documents()
    except (subprocess.CalledProcessError, OSError) as exc:  # no Debian mirror reachable
        pytest.skip(f"the pinned texlive-publishers packages could not be fetched: {exc}")
    docs = texlive_samples() + published
    root = tmp_path_factory.mktemp("latexmk-reference")
    return [(doc, latexmk_pages(doc, root / doc.name)) for doc in docs]


def payload(doc: Document) -> dict:
    return {
        "main": doc.main,
        "files": [
            {"path": name, "content_base64": base64.b64encode(data).decode()}
            for name, data in doc.files.items()
        ],
        "terminal_input": doc.terminal_input,
    }


async def test_real_documents_have_latexmks_page_count(latex_worker, module_bus, corpus):
    """Same pages as latexmk; where latexmk itself reports errors (an old class), the worker
    fails with LATEX_ERROR and returns the same PDF as partial."""
    results = await asyncio.gather(
        *(module_bus.call("latex", "latex.compile", payload(doc), timeout=300) for doc, _ in corpus)
    )
    table = []
    for (doc, (pages, clean)), result in zip(corpus, results, strict=True):
        if result.status is Status.COMPLETED:
            got, how = result.result["artifact"]["pages"], "ok"
        else:
            partial = result.error.details.get("partial_artifact") or {}
            got, how = partial.get("pages"), f"{result.error.code}, partial PDF"
        table.append((doc.name, pages, "ok" if clean else "errors", got, how))
    print("\n".join(f"{n:24} latexmk={p} ({c}) worker={g} ({h})" for n, p, c, g, h in table))
    assert all(pages for _, pages, _, _, _ in table), table
    assert [(n, p) for n, p, _, _, _ in table] == [(n, g) for n, _, _, g, _ in table]
    # the worker completes exactly the documents latexmk compiles without errors
    assert [c == "ok" for *_, c, _, _ in table] == [h == "ok" for *_, h in table]
    assert sum(h == "ok" for *_, h in table) >= 8 and len(table) >= 9


async def test_testpage_without_its_answers_says_it_waits_for_the_terminal(
    latex_worker, module_bus, corpus
):
    testpage = next(doc for doc, _ in corpus if doc.name == "testpage")
    result = await module_bus.call("latex", "latex.compile", {"main": testpage.main}, timeout=120)
    assert result.status is Status.FAILED and result.error.code == "LATEX_ERROR"
    assert "waits for input from the terminal" in result.error.message
    first = result.error.details["errors"][0]
    assert first["kind"] == "terminal_input" and "paper type" in first["prompt"]


async def test_a_shipout_flood_fails_at_the_page_limit_and_stores_nothing(latex_worker, module_bus):
    flood = (
        "\\documentclass{article}\\begin{document}\\newcount\\n"
        "\\loop\\shipout\\hbox{Page \\the\\n}\\advance\\n by 1 \\ifnum\\n<100001 \\repeat"
        "\\end{document}"
    )
    result = await module_bus.call("latex", "latex.compile", {"main": flood}, timeout=120)
    assert result.status is Status.FAILED and result.error.code == "PAGE_LIMIT_EXCEEDED"
    assert result.error.details["max_pages"] == 100
    assert "stopped at page 101" in result.error.message
    assert "partial_artifact" not in result.error.details
    assert result.processing_ms is None or result.processing_ms < 30_000

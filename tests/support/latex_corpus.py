"""Real LaTeX documents for the worker's corpus test, and latexmk's page count for each.

* TeX Live's own samples, found on the installed system: ``sample2e``, ``small2e`` and
  ``testpage`` (which asks two questions on the terminal: answered with ``terminal_input``).
* Public article and thesis templates from Debian's ``texlive-publishers-doc`` (IEEE
  journal/conference articles, an Elsevier article, two theses), with their classes and
  bibliography styles from ``texlive-publishers``: both packages pinned by version and
  sha256, fetched with ``apt-get download`` by the test setup, only the members used kept
  under ``var/corpora/latex`` (gitignored). The classes travel with each document as extra
  files, so the base TeX installation compiles them.

The reference is ``latexmk`` run directly (pdflatex, the same TeX installation, the same
pass limit) on the same files.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "var" / "corpora" / "latex"
TEXMF = Path("/usr/share/texlive/texmf-dist")
DOC = "usr/share/doc/texlive-doc/latex"
DIST = "usr/share/texlive/texmf-dist"

#: Debian bookworm's TeX Live 2022 packages: version and sha256 of the .deb.
PINNED = {
    "texlive-publishers": (
        "2022.20230122-4",
        "b58dad3a25c55c9347c51a8b384c47194f2b2e37a5f3dca893d9794396813610",
    ),
    "texlive-publishers-doc": (
        "2022.20230122-4",
        "9b632913d4b0d0871bef41c414fc7ce1167e3bacb55b140901df0c95df1c5765",
    ),
}


@dataclass
class Document:
    name: str
    main: str
    files: dict[str, bytes] = field(default_factory=dict)
    terminal_input: list[str] = field(default_factory=list)
    origin: str = ""


#: name -> (main source in texlive-publishers-doc, files from texlive-publishers)
PUBLISHED = {
    "ieee-journal": (
        f"{DOC}/ieeetran/bare_jrnl.tex.gz",
        [f"{DIST}/tex/latex/ieeetran/IEEEtran.cls"],
    ),
    "ieee-conference": (
        f"{DOC}/ieeetran/bare_conf.tex.gz",
        [f"{DIST}/tex/latex/ieeetran/IEEEtran.cls"],
    ),
    "ieee-conference-compsoc": (
        f"{DOC}/ieeetran/bare_conf_compsoc.tex.gz",
        [f"{DIST}/tex/latex/ieeetran/IEEEtran.cls"],
    ),
    "elsevier-article": (
        f"{DOC}/elsarticle/elsarticle-template-num.tex.gz",
        [
            f"{DIST}/tex/latex/elsarticle/elsarticle.cls",
            f"{DIST}/bibtex/bst/elsarticle/elsarticle-num.bst",
        ],
    ),
    "auckland-thesis": (
        f"{DOC}/aucklandthesis/template.tex.gz",
        [f"{DIST}/tex/latex/aucklandthesis/aucklandthesis.cls"],
    ),
    "adfa-thesis": (
        f"{DOC}/adfathesis/template.tex",
        [
            f"{DIST}/tex/latex/adfathesis/adfathesis.cls",
            f"{DIST}/bibtex/bst/adfathesis/adfathesis.bst",
        ],
    ),
}


def texlive_samples() -> list[Document]:
    """LaTeX's sample documents as installed by texlive-latex-base."""
    base = TEXMF / "tex" / "latex" / "base"
    return [
        Document("sample2e", (base / "sample2e.tex").read_text(), origin="texlive-latex-base"),
        Document("small2e", (base / "small2e.tex").read_text(), origin="texlive-latex-base"),
        Document(
            "testpage",
            (base / "testpage.tex").read_text(),
            terminal_input=["a4paper", "y"],
            origin="texlive-latex-base",
        ),
    ]


def _download(package: str, workdir: Path) -> Path:
    version, sha256 = PINNED[package]
    subprocess.run(
        ["apt-get", "download", "-qq", f"{package}={version}"],
        cwd=workdir,
        check=True,
        capture_output=True,
    )
    (deb,) = workdir.glob(f"{package}_*.deb")
    digest = hashlib.sha256(deb.read_bytes()).hexdigest()
    if digest != sha256:
        raise RuntimeError(f"{deb.name}: sha256 {digest} is not the pinned {sha256}")
    return deb


def _extract(deb: Path, members: list[str], into: Path) -> None:
    tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    subprocess.run(
        ["tar", "-x", "-C", str(into), *(f"./{m}" for m in members)], stdin=tar.stdout, check=True
    )
    assert tar.stdout is not None
    tar.stdout.close()
    if tar.wait() != 0:
        raise RuntimeError(f"dpkg-deb could not read {deb.name}")


def fetch_published(cache: Path = CACHE) -> Path:
    """The pinned packages' members used here, extracted once under ``cache``."""
    stamp = cache / "complete"
    wanted = sorted({m for main, extra in PUBLISHED.values() for m in (main, *extra)})
    key = hashlib.sha256(repr((PINNED, wanted)).encode()).hexdigest()
    if stamp.is_file() and stamp.read_text() == key:
        return cache
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        for package in PINNED:
            deb = _download(package, Path(tmp))
            members = [m for m in wanted if (m.startswith(DOC)) == package.endswith("-doc")]
            _extract(deb, members, cache)
            deb.unlink()
    stamp.write_text(key)
    return cache


def published_documents(cache: Path = CACHE) -> list[Document]:
    root = fetch_published(cache)
    docs = []
    for name, (main, extra) in PUBLISHED.items():
        raw = (root / main).read_bytes()
        text = gzip.decompress(raw) if main.endswith(".gz") else raw
        files = {Path(m).name: (root / m).read_bytes() for m in extra}
        docs.append(
            Document(
                name,
                text.decode("utf-8", errors="replace"),
                files,
                origin=f"texlive-publishers-doc {PINNED['texlive-publishers-doc'][0]}: "
                + main.removeprefix(DOC + "/"),
            )
        )
    return docs


def latexmk_pages(doc: Document, workdir: Path, *, max_passes: int = 5) -> tuple[int | None, bool]:
    """Pages of the PDF latexmk (pdflatex) makes of ``doc`` here (None: no PDF), and
    whether latexmk finished without errors."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "main.tex").write_text(doc.main)
    for name, data in doc.files.items():
        (workdir / name).write_bytes(data)
    answers = "".join(f"{line}\n" for line in doc.terminal_input)
    run = subprocess.run(
        [
            "latexmk",
            "-norc",
            "-pdf",
            "-bibtex-cond",
            "-interaction=" + ("scrollmode" if doc.terminal_input else "nonstopmode"),
            "-no-shell-escape",
            "-e",
            f"$max_repeat={max_passes}",
            "main.tex",
        ],
        cwd=workdir,
        input=answers,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    pdf = workdir / "main.pdf"
    if not pdf.is_file():
        return None, False
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    line = next(ln for ln in info.stdout.splitlines() if ln.startswith("Pages:"))
    return int(line.split()[1]), run.returncode == 0

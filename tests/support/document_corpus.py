"""Public documents other people wrote, for the data processing worker (issue 19).

Every file comes from a pinned package checked against its sha256 and cached
under the gitignored ``var/corpora/documents``:

- PyPI sdists (``pip download``, tests/support/corpora.py): python-docx's and
  python-pptx's test files (DOCX, PPTX, XLSX), odfpy's examples (ODT),
  mail-parser's test mails (EML), markdown-it-py's fixtures (MD, HTML, XML).
- Debian packages (``apt-get download NAME=VERSION``): the Debian Live manual and
  the Ubuntu packaging guide (EPUB), latex2rtf's manual (HTML), distro-info-data
  (CSV), and for the retrieval evaluation the Debian FAQ and Python 3.11's FAQ.

No RTF file was found in a pinned package: RTF is not in the coverage figures.
"""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.corpora import CORPORA, unpacked_sdist

CACHE = CORPORA / "documents"

SDISTS = {
    "python-docx": (
        "python-docx==1.2.0",
        "python_docx-1.2.0.tar.gz",
        "7bc9d7b7d8a69c9c02ca09216118c86552704edc23bac179283f2e38f86220ce",
    ),
    "python-pptx": (
        "python-pptx==1.0.2",
        "python_pptx-1.0.2.tar.gz",
        "479a8af0eaf0f0d76b6f00b0887732874ad2e3188230315290cd1f9dd9cc7095",
    ),
    "odfpy": (
        "odfpy==1.4.1",
        "odfpy-1.4.1.tar.gz",
        "db766a6e59c5103212f3cc92ec8dd50a0f3a02790233ed0b52148b70d3c438ec",
    ),
    "mail-parser": (
        "mail-parser==4.8.0",
        "mail_parser-4.8.0.tar.gz",
        "602e659b159652d378b0f9cce2d682bee692bedae72687786e2b2e52eaeb9afc",
    ),
    "markdown-it-py": (
        "markdown-it-py==4.3.0",
        "markdown_it_py-4.3.0.tar.gz",
        "91a58fa5b72c71a40cf7177250fd767480d7a2bb3ac426ccfb76fb90305fdaaa",
    ),
}
DEBS = {
    "live-manual-epub": (
        "2:20151217.2",
        "8d020f6c902903c388ef2ccf003c5db4f2f067b6935416dce9793a41b9f4e1fc",
    ),
    "ubuntu-packaging-guide-epub": (
        "1.0.4",
        "162e0543fa70df67f5df62d2737aa256ddf6d88604f5c7955486e61000127aab",
    ),
    "latex2rtf-doc": (
        "2.3.18a-3",
        "3e850ba7c9617de4ca0cb1dd649d651ea77b1dddfefecf271628b65e5dbb5fc9",
    ),
    "distro-info-data": (
        "0.58+deb12u7",
        "f015ac6966bea87484ef4f98a15077e46b410c0b3985ba55b428235cdb46663f",
    ),
    "debian-faq": ("11.1", "427426e0cfa6888622fc1d72631071cb4b5a1f86ccde722e7820bcef284de5d0"),
    "python3.11-doc": (
        "3.11.2-6+deb12u9",
        "5b3594189d6ef9a6963ce0347fd307a1cc67620ad697e144db366070e2e146be",
    ),
}
#: What each source contributes to the coverage run: (glob, format name to send it as).
COVERAGE = {
    "python-docx": [("**/*.docx", "docx")],
    "python-pptx": [("**/*.pptx", "pptx"), ("**/*.xlsx", "xlsx"), ("**/*.docx", "docx")],
    "odfpy": [("**/*.odt", "odt")],
    "mail-parser": [("tests/mails/*", "eml")],
    "markdown-it-py": [("**/*.md", "md"), ("**/*.html", "html"), ("**/*.xml", "xml")],
    # One of live-manual's ten translations: the same book each time, ~2 MB of text (2,500
    # chunks to embed) per file, and what it covers (pandoc refusing the book's table of
    # contents, the spine fallback) is the same in every language.
    "live-manual-epub": [("**/live-manual.en.epub", "epub")],
    "ubuntu-packaging-guide-epub": [("**/*.epub", "epub")],
    "latex2rtf-doc": [("**/*.html", "html")],
    "distro-info-data": [("**/*.csv", "csv")],
}


def sdist(name: str) -> Path:
    spec, filename, sha256 = SDISTS[name]
    return unpacked_sdist(spec, filename, sha256, CACHE)


def deb(name: str) -> Path:
    """The package's files (``dpkg-deb -x``) after its .deb matched the pinned sha256."""
    version, sha256 = DEBS[name]
    out = CACHE / f"{name}_{version.replace(':', '%3a')}"
    if out.is_dir():
        return out
    CACHE.mkdir(parents=True, exist_ok=True)
    found = list(CACHE.glob(f"{name}_*.deb"))
    if not found:
        subprocess.run(
            ["apt-get", "download", f"{name}={version}"], cwd=CACHE, check=True, timeout=300
        )
        found = list(CACHE.glob(f"{name}_*.deb"))
    package = found[0]
    digest = hashlib.sha256(package.read_bytes()).hexdigest()
    if digest != sha256:
        package.unlink()
        raise RuntimeError(f"{package.name}: sha256 {digest} is not the pinned {sha256}")
    tmp = out.with_suffix(".tmp")
    subprocess.run(["dpkg-deb", "-x", str(package), str(tmp)], check=True, timeout=120)
    tmp.rename(out)
    return out


_TAG = re.compile(rb"<[^>]*>")
_WORD = re.compile(rb"[A-Za-z0-9]{2,}")
#: Office Open XML: the text runs a reader sees on pages and slides (charts and embedded
#: objects are not document text: no text extractor here reads chart labels).
_RUNS = re.compile(rb"<(?:w|a):t(?:\s[^>]*)?>([^<]*)</(?:w|a):t>")
_OOXML_TEXT_PARTS = re.compile(r"^(word/(document|header\d*|footer\d*|footnotes|endnotes)\.xml|"
                               r"ppt/(slides|notesSlides)/\w+\.xml)$")  # fmt: skip


def has_text(path: Path) -> bool:
    """Whether a file holds any text at all, judged without our parsers (python-docx and
    python-pptx ship test files with no text, rightly EMPTY_DOCUMENT): Word and PowerPoint
    text runs (``w:t``, ``a:t``) of the body, headers, footers, notes and slides; for other
    ZIP containers (XLSX, ODT, EPUB) any word outside tags in their XML/HTML parts."""
    data = path.read_bytes()
    if data[:4] != b"PK\x03\x04":
        return bool(_WORD.search(data))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        if any(n.startswith(("word/", "ppt/")) for n in names):
            runs = (m for n in names if _OOXML_TEXT_PARTS.match(n)
                    for m in _RUNS.findall(zf.read(n)))  # fmt: skip
            return any(_WORD.search(r) for r in runs)
        for name in names:
            if name.endswith((".xml", ".html", ".xhtml", ".htm")) and not name.startswith(
                ("META-INF/", "_rels", "[Content_Types]", "docProps/", "xl/styles", "xl/theme")
            ):
                if _WORD.search(_TAG.sub(b" ", zf.read(name))):
                    return True
    return False


@dataclass(frozen=True)
class Sample:
    source: str  # the package it came from
    path: Path
    fmt: str

    @property
    def name(self) -> str:
        """The filename sent: the file's own, with the format's extension when it has none."""
        return self.path.name if self.path.suffix else f"{self.path.name}.{self.fmt}"


def coverage_samples() -> list[Sample]:
    out: list[Sample] = []
    for source, patterns in COVERAGE.items():
        root = sdist(source) if source in SDISTS else deb(source)
        seen: set[Path] = set()
        for pattern, fmt in patterns:
            for path in sorted(root.glob(pattern)):
                if path.is_file() and not path.is_symlink() and path not in seen:
                    seen.add(path)
                    out.append(Sample(source, path, fmt))
    return out

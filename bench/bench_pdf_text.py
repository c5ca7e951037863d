"""Plain PDF text for ingestion: pypdf (what the platform uses) against pdfplumber.

Both are scored against poppler's ``pdftotext`` on the same files: word recall (the share of
pdftotext's words, as a multiset, that the extractor also produces), glued words (tokens of
20+ letters that pdftotext does not have, e.g. "CreatedRESTfulapis") and the time ratio.

    python -m bench.bench_pdf_text [DIR ...]   # default: the TeX Live CV class PDFs

The default corpus is the PDFs of the pinned ``texlive-latex-extra-doc`` package the resume
evaluation fetches (``tests/support/public_resumes.py``), unpacked under ``var/``.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from enginedge_streams.documents.pdf import X_TOLERANCE, PdfText
from enginedge_streams.documents.text import fold

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "var" / "resume-public-corpus" / "texlive-latex-extra-doc_2022.20230122-4_all"
WORD = re.compile(r"\w+")


def words(text: str) -> Counter[str]:
    return Counter(w.lower() for w in WORD.findall(fold(text)))


def reference(path: Path) -> str:
    done = subprocess.run(
        ["pdftotext", "-q", str(path), "-"], check=False, capture_output=True, timeout=60
    )
    return done.stdout.decode("utf-8", "replace")


def with_pypdf(data: bytes) -> str:
    pdf = PdfText(data, max_pages=2000)
    return "\n".join(pdf.page_text(i) for i in range(pdf.pages_total))


def with_pdfplumber(data: bytes) -> str:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(p.extract_text(x_tolerance=X_TOLERANCE) or "" for p in pdf.pages)


def main(dirs: list[Path]) -> None:
    files = sorted(p for d in dirs for p in d.rglob("*.pdf"))
    if not files:
        raise SystemExit(f"no PDFs under {dirs} (run the resume public-corpus test once)")
    totals: dict[str, list[float]] = {"pypdf": [0, 0, 0, 0.0], "pdfplumber": [0, 0, 0, 0.0]}
    ref_words = 0
    used = 0
    for path in files:
        data = path.read_bytes()
        ref = words(reference(path))
        if sum(ref.values()) < 50:
            continue
        used += 1
        ref_words += sum(ref.values())
        for name, fn in (("pypdf", with_pypdf), ("pdfplumber", with_pdfplumber)):
            t0 = time.perf_counter()
            try:
                got = words(fn(data))
            except Exception:
                got = Counter()
            elapsed = time.perf_counter() - t0
            t = totals[name]
            t[0] += sum((got & ref).values())
            t[1] += sum(n for w, n in got.items() if len(w) >= 20 and w not in ref)
            t[2] += sum(got.values())
            t[3] += elapsed
    print(f"{used} PDFs, {ref_words} reference words (pdftotext)")
    base = totals["pypdf"][3] or 1e-9
    for name, (hit, glued, n, secs) in totals.items():
        print(
            f"{name:11s} word recall {hit / ref_words:.3f}  glued words {int(glued)}"
            f" ({glued / max(n, 1) * 1000:.2f} per 1000)  time {secs:.1f}s ({secs / base:.2f}x pypdf)"
        )


if __name__ == "__main__":
    main([Path(a) for a in sys.argv[1:]] or [DEFAULT])

"""The resume worker's CPU-heavy step, run in the compute pool's child processes.

Document extraction (PDF layout with fonts, DOCX, HTML) is pure Python: in a
thread it holds the GIL and cannot be stopped; in a child the pool kills it at
the command's deadline. NLP runs in the spaCy worker (over the bus) and
embeddings in onnxruntime, which releases the GIL (threads are right there).
"""

from __future__ import annotations

from agents.resume.documents import Extracted, LayoutLimits, extract


def extract_step(
    data: bytes, filename: str | None, mime: str | None, limits: LayoutLimits
) -> Extracted:
    return extract(data, filename, mime, limits)

"""The text of a PDF (pypdf), to check what a rendered report says."""

from __future__ import annotations

import io


def pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() or "" for page in reader.pages)

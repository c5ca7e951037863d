"""The text of a PDF, to check what a rendered report says: poppler's `pdftotext` when it is
installed (it keeps word spacing for every font), else pypdf."""

from __future__ import annotations

import io
import shutil
import subprocess


def pdf_text(pdf: bytes) -> str:
    if shutil.which("pdftotext"):
        done = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", "-", "-"],
            input=pdf,
            capture_output=True,
            check=True,
            timeout=60,
        )
        return done.stdout.decode("utf-8", "replace")
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() or "" for page in reader.pages)

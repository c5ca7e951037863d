"""PDF text per page with pypdf (page numbers kept); pages with no usable text layer are
flagged for OCR. Encrypted and unreadable files are refused with their own codes."""

from __future__ import annotations

import io
import logging
from typing import Any

from agents.data_processing.formats import (
    CorruptDocumentError,
    EncryptedDocumentError,
    normalise,
)
from enginedge_streams.errors import LimitExceededError

log = logging.getLogger("enginedge.data_processing.pdf")
MIN_TEXT_CHARS = 16  # fewer extracted characters than this: treat the page as an image


class PdfDocument:
    def __init__(self, data: bytes, *, max_pages: int) -> None:
        import pypdf
        from pypdf.errors import PdfReadError

        logging.getLogger("pypdf").setLevel(logging.ERROR)
        try:
            self.reader: Any = pypdf.PdfReader(io.BytesIO(data), strict=False)
            if self.reader.is_encrypted:
                ok: Any
                try:
                    ok = self.reader.decrypt("")
                except Exception:
                    ok = 0
                if not ok:
                    raise EncryptedDocumentError("the PDF is encrypted with a password")
            self.pages_total = len(self.reader.pages)
            meta = self.reader.metadata
            self.title = (str(meta.title).strip() or None) if meta and meta.title else None
        except (EncryptedDocumentError, LimitExceededError):
            raise
        except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
            raise CorruptDocumentError(f"unreadable PDF: {exc}") from None
        except Exception as exc:  # pypdf raises assorted errors on broken files
            raise CorruptDocumentError(f"unreadable PDF: {type(exc).__name__}: {exc}") from None
        if self.pages_total == 0:
            raise CorruptDocumentError("the PDF has no pages")
        if self.pages_total > max_pages:
            raise LimitExceededError(
                f"the PDF has {self.pages_total} pages (MAX_DOCUMENT_PAGES={max_pages})",
                code="TOO_MANY_PAGES",
            )

    def page_text(self, index: int) -> str:
        """Normalised text of page ``index`` (0-based); '' when it has no text layer."""
        try:
            text = self.reader.pages[index].extract_text() or ""
        except Exception as exc:
            log.warning("page %d: text extraction failed (%s); will OCR", index + 1, exc)
            return ""
        return normalise(text)

    @staticmethod
    def needs_ocr(text: str) -> bool:
        return len("".join(text.split())) < MIN_TEXT_CHARS

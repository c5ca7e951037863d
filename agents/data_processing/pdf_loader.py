"""PDF text per page through the platform's document layer (pypdf, page numbers kept); pages
with no usable text layer are flagged for OCR. Encrypted and unreadable files are refused with
their own codes (``ENCRYPTED_DOCUMENT``, ``CORRUPT_DOCUMENT``, ``TOO_MANY_PAGES``)."""

from __future__ import annotations

from agents.data_processing.formats import (
    CorruptDocumentError,
    EncryptedDocumentError,
    normalise,
)
from enginedge_streams.documents import errors
from enginedge_streams.documents.pdf import PdfText
from enginedge_streams.errors import PermanentError

MIN_TEXT_CHARS = 16  # fewer extracted characters than this: treat the page as an image


def loader_error(exc: PermanentError) -> PermanentError:
    """The platform's per-file failure as this worker's error class (same code)."""
    if exc.code == errors.CORRUPT:
        return CorruptDocumentError(str(exc))
    if exc.code == errors.ENCRYPTED:
        return EncryptedDocumentError(str(exc))
    return exc


class PdfDocument:
    def __init__(self, data: bytes, *, max_pages: int) -> None:
        try:
            self._pdf = PdfText(data, max_pages=max_pages)
        except PermanentError as exc:
            raise loader_error(exc) from None
        self.pages_total = self._pdf.pages_total
        self.title = self._pdf.title

    def page_text(self, index: int) -> str:
        """Normalised text of page ``index`` (0-based); '' when it has no text layer."""
        return normalise(self._pdf.page_text(index))

    @staticmethod
    def needs_ocr(text: str) -> bool:
        return len("".join(text.split())) < MIN_TEXT_CHARS

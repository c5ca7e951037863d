"""Per-file failures of the document-parsing layer, each with its reason code.

A library exception on a malformed file never leaves this layer as such: it becomes one of
these (a FAILED result with the code, never ``INTERNAL_ERROR`` with the library's text).
"""

from __future__ import annotations

from enginedge_streams.errors import LimitExceededError, PermanentError

CORRUPT = "CORRUPT_DOCUMENT"
ENCRYPTED = "ENCRYPTED_DOCUMENT"
TOO_MANY_PAGES = "TOO_MANY_PAGES"
TOO_LARGE = "DOCUMENT_TOO_LARGE"


def corrupt(kind: str, exc: BaseException | None = None) -> PermanentError:
    detail = f" ({type(exc).__name__})" if exc is not None else ""
    return PermanentError(f"not a readable {kind} file{detail}", code=CORRUPT)


def encrypted(kind: str) -> PermanentError:
    return PermanentError(f"the {kind} is encrypted with a password", code=ENCRYPTED)


def too_many_pages(pages: int, limit: int) -> LimitExceededError:
    return LimitExceededError(f"the document has {pages} pages (max {limit})", code=TOO_MANY_PAGES)


def too_large(what: str) -> LimitExceededError:
    return LimitExceededError(f"the {what} expands beyond the size limit", code=TOO_LARGE)

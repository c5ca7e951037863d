"""Which format a document is, and the checks every input passes before it is parsed.

Detection trusts content over names: PDF and ZIP magic bytes, then the MIME
type, then the file extension, then a look at the text. Each refusal has its
own error code so a caller can tell an unsupported file from a broken one.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

from enginedge_streams.documents.text import decode_bytes, fold
from enginedge_streams.errors import LimitExceededError, PermanentError

FORMATS = ("pdf", "docx", "txt", "html", "md")
MIME = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "text/plain": "txt",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/markdown": "md",
    "text/x-markdown": "md",
}
EXT = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".txt": "txt",
    ".text": "txt",
    ".log": "txt",
    ".csv": "txt",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".md": "md",
    ".markdown": "md",
}
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*", b"BM")


class UnsupportedFormatError(PermanentError):
    code = "UNSUPPORTED_FORMAT"


class CorruptDocumentError(PermanentError):
    code = "CORRUPT_DOCUMENT"


class EncryptedDocumentError(PermanentError):
    code = "ENCRYPTED_DOCUMENT"


class ZipBombError(LimitExceededError):
    code = "ZIP_BOMB"


class DocumentTooLargeError(LimitExceededError):
    code = "DOCUMENT_TOO_LARGE"


class EmptyDocumentError(PermanentError):
    code = "EMPTY_DOCUMENT"


def detect_format(data: bytes, filename: str | None, mime: str | None) -> str:
    """One of FORMATS, or UnsupportedFormatError naming what was seen."""
    head = data[:1024]
    ext = PurePosixPath(filename or "").suffix.lower()
    mime = (mime or "").split(";")[0].strip().lower()
    if head.lstrip()[:5] == b"%PDF-":
        return "pdf"
    if head[:4] == b"PK\x03\x04":
        if ext == ".docx" or MIME.get(mime) == "docx" or _zip_has(data, "word/document.xml"):
            return "docx"
        raise UnsupportedFormatError(f"a ZIP archive that is not a DOCX ({filename or mime})")
    if head.startswith(IMAGE_MAGIC):
        raise UnsupportedFormatError(
            "images are not documents: use ocr.process for an image", details={"kind": "image"}
        )
    declared = MIME.get(mime) or EXT.get(ext)
    if declared in ("pdf", "docx"):
        raise CorruptDocumentError(f"declared {declared} but the content is not a {declared} file")
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnsupportedFormatError(
            f"binary content of an unsupported type ({filename or mime or 'no name'})"
        )
    if declared is not None:
        return declared
    if mime or ext:
        raise UnsupportedFormatError(f"unsupported type {mime or ext!r}")
    sniff = head.lstrip().lower()
    if sniff.startswith((b"<!doctype html", b"<html")):
        return "html"
    return "txt"


def _zip_has(data: bytes, name: str) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return name in zf.namelist()
    except zipfile.BadZipFile:
        return False


def check_zip(
    data: bytes, *, max_total: int, max_ratio: float = 200.0, max_entries: int = 5_000
) -> None:
    """Refuse ZIP containers (DOCX) whose declared expansion is hostile, before reading them."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise CorruptDocumentError(f"not a readable ZIP/DOCX container: {exc}") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > max_entries:
            raise ZipBombError(f"{len(infos)} entries in the container (max {max_entries})")
        total = 0
        for info in infos:
            total += info.file_size
            if info.file_size > 1_000_000 and info.file_size > max_ratio * max(
                info.compress_size, 1
            ):
                raise ZipBombError(
                    f"{info.filename} expands {info.file_size / max(info.compress_size, 1):.0f}x",
                    details={"entry": info.filename, "size": info.file_size},
                )
        if total > max_total:
            raise ZipBombError(f"container expands to {total} bytes (max {max_total})")


def decode_text(data: bytes) -> str:
    """Text files: the BOM's encoding, else UTF-8, else Windows-1252."""
    return decode_bytes(data)[0]


def normalise(text: str) -> str:
    """NFKC (ligatures, compatibility spaces), unified newlines, no trailing spaces,
    and at most one blank line in a row."""
    text = fold(text).replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    lines = [line.rstrip() for line in text.split("\n")]
    out: list[str] = []
    blank = 0
    for line in lines:
        blank = blank + 1 if not line else 0
        if blank <= 1:
            out.append(line)
    return "\n".join(out).strip("\n")

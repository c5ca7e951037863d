"""Which format a document is, and the checks every input passes before it is parsed.

Detection trusts content over names: PDF and ZIP magic bytes, then the MIME
type, then the file extension, then a look at the text. Each refusal has its
own error code so a caller can tell an unsupported file from a broken one.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import PurePosixPath

from enginedge_streams.documents.text import decode_bytes, fold
from enginedge_streams.errors import LimitExceededError, PermanentError

FORMATS = (
    "pdf",
    "docx",
    "txt",
    "html",
    "md",
    "xml",
    "eml",
    "epub",
    "odt",
    "rtf",
    "pptx",
    "xlsx",
    "csv",
)
#: ZIP containers: the format and the entry that proves it.
ZIP_FORMATS = {
    "docx": "word/document.xml",
    "pptx": "ppt/presentation.xml",
    "xlsx": "xl/workbook.xml",
    "epub": "META-INF/container.xml",
    "odt": "content.xml",
}
MIME = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/epub+zip": "epub",
    "application/vnd.oasis.opendocument.text": "odt",
    "text/plain": "txt",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/markdown": "md",
    "text/x-markdown": "md",
    "application/xml": "xml",
    "text/xml": "xml",
    "message/rfc822": "eml",
    "application/rtf": "rtf",
    "text/rtf": "rtf",
    "text/csv": "csv",
}
EXT = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".pptx": "pptx",
    ".xlsx": "xlsx",
    ".epub": "epub",
    ".odt": "odt",
    ".txt": "txt",
    ".text": "txt",
    ".log": "txt",
    ".csv": "csv",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".md": "md",
    ".markdown": "md",
    ".xml": "xml",
    ".eml": "eml",
    ".rtf": "rtf",
}
_MAIL_HEADER = re.compile(rb"^([A-Za-z][A-Za-z0-9-]{1,40}):[ \t]", re.MULTILINE)
_MAIL_KEYS = {b"received", b"return-path", b"from", b"message-id", b"mime-version", b"delivered-to"}
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
        return _zip_format(data, ext, MIME.get(mime), filename or mime)
    if head.startswith(IMAGE_MAGIC):
        raise UnsupportedFormatError(
            "images are not documents: use ocr.process for an image", details={"kind": "image"}
        )
    declared = MIME.get(mime) or EXT.get(ext)
    if declared == "pdf" or declared in ZIP_FORMATS:
        raise CorruptDocumentError(f"declared {declared} but the content is not a {declared} file")
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnsupportedFormatError(
            f"binary content of an unsupported type ({filename or mime or 'no name'})"
        )
    if declared is not None:
        return declared
    if mime or ext:
        raise UnsupportedFormatError(f"unsupported type {mime or ext!r}")
    return _sniff_text(head)


def _sniff_text(head: bytes) -> str:
    """A nameless text's format from its first bytes."""
    sniff = head.lstrip().lower()
    if sniff.startswith((b"<!doctype html", b"<html")):
        return "html"
    if sniff.startswith(b"{\\rtf"):
        return "rtf"
    if sniff.startswith(b"<?xml"):
        return "html" if b"<html" in sniff or b"<!doctype html" in sniff else "xml"
    keys = {m.group(1).lower() for m in _MAIL_HEADER.finditer(head.split(b"\n\n", 1)[0])}
    if len(keys) >= 3 and keys & _MAIL_KEYS:
        return "eml"
    return "txt"


def _zip_format(data: bytes, ext: str, declared: str | None, what: str | None) -> str:
    """Which ZIP-based format: the extension or MIME type if the container agrees, else its
    entries decide (an ODF/EPUB ``mimetype`` entry, the OOXML main part)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            kind = (
                zf.read("mimetype")[:64].decode("ascii", "replace") if "mimetype" in names else ""
            )
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        if (EXT.get(ext) or declared) in ZIP_FORMATS:
            raise CorruptDocumentError(f"not a readable ZIP container: {exc}") from None
        raise UnsupportedFormatError(
            f"a ZIP archive of no supported document format ({what})"
        ) from None
    found = [f for f, entry in ZIP_FORMATS.items() if entry in names]
    if kind.startswith("application/epub"):
        found = ["epub"]
    elif kind.startswith("application/vnd.oasis.opendocument"):
        found = ["odt"] if kind.endswith(".text") else []
    else:
        found = [f for f in found if f not in ("epub", "odt")]
    wanted = EXT.get(ext) or declared
    if wanted in found:
        return wanted
    if found:
        return found[0]
    raise UnsupportedFormatError(f"a ZIP archive of no supported document format ({what})")


def check_zip(
    data: bytes, *, max_total: int, max_ratio: float = 200.0, max_entries: int = 5_000
) -> None:
    """Refuse ZIP containers (DOCX, PPTX, XLSX, EPUB, ODT) whose declared expansion is hostile,
    before reading them."""
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

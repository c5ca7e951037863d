"""The ``DocumentSources`` port: inline base64, URLs through the platform's safe HTTP
client (SSRF policy, redirects re-checked, size cap), and files under IMPORT_DIR."""

from __future__ import annotations

import asyncio
import mimetypes
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from agents.data_processing.formats import DocumentTooLargeError
from agents.data_processing.messages import InlineSource, PathSource, UrlSource
from agents.data_processing.ports import FetchedDocument
from enginedge_streams.errors import (
    LimitExceededError,
    NotFoundError,
    PermanentError,
    RetryableError,
)
from enginedge_streams.safe_http import SafeHttpClient


class PathRefusedError(PermanentError):
    code = "PATH_REFUSED"


class SafeHttpDocumentSources:
    def __init__(self, http: SafeHttpClient, import_dir: Path | None) -> None:
        self.http = http
        self.import_dir = import_dir

    async def start(self) -> None:
        await self.http.start()

    async def stop(self) -> None:
        await self.http.stop()

    async def fetch(self, source: Any, *, max_bytes: int) -> FetchedDocument:
        if isinstance(source, InlineSource):
            data = source.content()
            _check_size(len(data), max_bytes)
            return FetchedDocument(data, source.filename, source.mime_type, "inline")
        if isinstance(source, UrlSource):
            return await self._fetch_url(source, max_bytes)
        if isinstance(source, PathSource):
            return await asyncio.to_thread(self._read_path, source, max_bytes)
        raise PermanentError(f"unknown source {type(source).__name__}")

    async def _fetch_url(self, source: UrlSource, max_bytes: int) -> FetchedDocument:
        try:
            resp = await self.http.fetch(source.url, max_bytes=max_bytes)
        except LimitExceededError as exc:
            raise DocumentTooLargeError(exc.message, details={"url": source.url}) from None
        if resp.status >= 500 or resp.status == 429:
            raise RetryableError(
                f"GET {source.url} answered {resp.status}", code="DOCUMENT_FETCH_FAILED"
            )
        if resp.status != 200:
            raise PermanentError(
                f"GET {source.url} answered {resp.status}",
                code="DOCUMENT_FETCH_FAILED",
                details={"status": resp.status},
            )
        _check_size(len(resp.body), max_bytes)
        name = source.filename or unquote(PurePosixPath(urlsplit(resp.url).path).name) or None
        mime = source.mime_type or resp.content_type or None
        return FetchedDocument(resp.body, name, mime, source.url)

    def _read_path(self, source: PathSource, max_bytes: int) -> FetchedDocument:
        if self.import_dir is None:
            raise PathRefusedError("importing by path is disabled (IMPORT_DIR is not set)")
        root = self.import_dir.resolve()
        if Path(source.path).is_absolute() or "\x00" in source.path:
            raise PathRefusedError("the path must be relative to IMPORT_DIR")
        target = (root / source.path).resolve()
        if not target.is_relative_to(root):
            raise PathRefusedError(f"{source.path!r} is outside IMPORT_DIR")
        if not target.is_file():
            raise NotFoundError(f"no file {source.path!r} under IMPORT_DIR")
        _check_size(target.stat().st_size, max_bytes)
        with target.open("rb") as fh:
            data = fh.read(max_bytes + 1)
        _check_size(len(data), max_bytes)
        mime = source.mime_type or mimetypes.guess_type(target.name)[0]
        return FetchedDocument(data, target.name, mime, str(target.relative_to(root)))


def _check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise DocumentTooLargeError(
            f"document of {size} bytes exceeds MAX_DOCUMENT_BYTES={max_bytes}",
            details={"bytes": size, "limit": max_bytes},
        )
    if size == 0:
        raise PermanentError("the document is empty", code="EMPTY_DOCUMENT")

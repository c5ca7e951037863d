"""Outbound HTTP under the platform's safe policy (``enginedge_streams.safe_http``)."""

from __future__ import annotations

from typing import Protocol

from enginedge_streams.safe_http import HttpResponse


class HttpFetcher(Protocol):
    """``SafeHttpClient`` is the adapter: SSRF checks, size and time limits, redirects."""

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        max_bytes: int | None = None,
    ) -> HttpResponse: ...

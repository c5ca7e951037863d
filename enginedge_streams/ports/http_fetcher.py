"""Outbound HTTP under the platform's safe policy (``enginedge_streams.safe_http``)."""

from __future__ import annotations

from typing import Protocol, TypedDict, Unpack

from enginedge_streams.safe_http import HttpResponse


class FetchOptions(TypedDict, total=False):
    """The keyword arguments of ``HttpFetcher.fetch`` (all optional)."""

    method: str  # default GET
    headers: dict[str, str] | None
    body: bytes | None
    max_bytes: int | None  # default: the client's own limit


class HttpFetcher(Protocol):
    """``SafeHttpClient`` is the adapter: SSRF checks, size and time limits, redirects."""

    async def fetch(self, url: str, **options: Unpack[FetchOptions]) -> HttpResponse: ...

"""An ``HttpFetcher`` fake serving fixed responses by URL (and recording the requests)."""

from __future__ import annotations

from typing import Unpack

from enginedge_streams.ports.http_fetcher import FetchOptions
from enginedge_streams.safe_http import HttpResponse


class StaticHttpFetcher:
    """Serves fixed responses by URL (for tools' unit tests)."""

    def __init__(self, pages: dict[str, HttpResponse]) -> None:
        self.pages = pages
        self.requests: list[tuple[str, str]] = []

    async def fetch(self, url: str, **options: Unpack[FetchOptions]) -> HttpResponse:
        self.requests.append((options.get("method", "GET"), url))
        return self.pages[url]

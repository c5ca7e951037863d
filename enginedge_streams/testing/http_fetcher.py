"""An ``HttpFetcher`` fake serving fixed responses by URL (and recording the requests)."""

from __future__ import annotations

from enginedge_streams.safe_http import HttpResponse


class StaticHttpFetcher:
    """Serves fixed responses by URL (for tools' unit tests)."""

    def __init__(self, pages: dict[str, HttpResponse]) -> None:
        self.pages = pages
        self.requests: list[tuple[str, str]] = []

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        max_bytes: int | None = None,
    ) -> HttpResponse:
        self.requests.append((method, url))
        return self.pages[url]

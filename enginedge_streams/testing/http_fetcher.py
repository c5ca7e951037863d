"""``HttpFetcher`` fakes: fixed pages by URL, or sites answered by async functions in process.

``RoutedHttpFetcher`` keeps what callers rely on from ``SafeHttpClient`` (the adapter):
each hop checked by the policy (``URL_REFUSED``), redirects followed (``redirects`` and
the final ``url``), the policy's timeout (``HTTP_TIMEOUT``), the body limit
(``RESPONSE_TOO_LARGE``) and an unknown host as unreachable (``DEPENDENCY_UNAVAILABLE``)
— without a socket, so logic that fetches is tested in ``tests/unit``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Unpack
from urllib.parse import urlsplit

from enginedge_streams.errors import DependencyUnavailableError
from enginedge_streams.ports.http_fetcher import FetchOptions
from enginedge_streams.safe_http import (
    HttpResponse,
    SafeHttpPolicy,
    UrlRefusedError,
    check_url,
    redirect_hop,
    timed_out,
    too_large,
)


class StaticHttpFetcher:
    """Serves fixed responses by URL (for tools' unit tests)."""

    def __init__(self, pages: dict[str, HttpResponse]) -> None:
        self.pages = pages
        self.requests: list[tuple[str, str]] = []

    async def fetch(self, url: str, **options: Unpack[FetchOptions]) -> HttpResponse:
        self.requests.append((options.get("method", "GET"), url))
        return self.pages[url]


@dataclass(frozen=True)
class HttpRequest:
    """One request as a site function sees it."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None = None

    @property
    def path(self) -> str:
        """The path and query (``/feeds/a?x=1``)."""
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


#: A site: answers a request (its ``url`` and ``redirects`` are filled in by the fetcher).
Site = Callable[[HttpRequest], Awaitable[HttpResponse]]


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class RoutedHttpFetcher:
    """Answers each request from the site registered for its origin (``http://host[:port]``)."""

    def __init__(self, sites: Mapping[str, Site], policy: SafeHttpPolicy | None = None) -> None:
        self.sites = {origin(base): site for base, site in sites.items()}
        self.policy = policy or SafeHttpPolicy()
        self.requests: list[HttpRequest] = []

    async def fetch(self, url: str, **options: Unpack[FetchOptions]) -> HttpResponse:
        policy = self.policy
        limit = min(options.get("max_bytes") or policy.max_bytes, policy.max_bytes)
        method = options.get("method", "GET").upper()
        headers = dict(options.get("headers") or {})
        body = options.get("body")
        redirects: list[str] = []
        current = url
        for _ in range(policy.max_redirects + 1):
            check_url(current, policy)
            site = self.sites.get(origin(current))
            if site is None:
                raise DependencyUnavailableError(f"cannot connect to {current}: no such site")
            request = HttpRequest(method, current, headers, body)
            self.requests.append(request)
            try:
                async with asyncio.timeout(policy.timeout_s):
                    answer = await site(request)
            except TimeoutError:
                raise timed_out(method, current, policy.timeout_s) from None
            hop = redirect_hop(current, answer.status, answer.headers, method, body)
            if hop is not None:
                redirects.append(current)
                current, method, body = hop
                continue
            if len(answer.body) > limit:
                raise too_large(limit)
            lowered = {k.lower(): v for k, v in answer.headers.items()}
            return replace(answer, headers=lowered, url=current, redirects=redirects)
        raise UrlRefusedError(f"more than {policy.max_redirects} redirects")

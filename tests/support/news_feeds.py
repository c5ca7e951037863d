"""A feed site for the news worker's tests: real RSS 0.91/1.0/2.0 and Atom documents,
article pages, conditional GET (ETag and Last-Modified -> 304), a redirect, malformed XML
and a feed that never answers in time. Served over HTTP on 127.0.0.1 (``FeedSite.app``, for
workers in their own processes) or in process (``FeedSite.respond``, a ``RoutedHttpFetcher``
site, for unit tests)."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from enginedge_streams.safe_http import HttpResponse
from enginedge_streams.testing.http_fetcher import HttpRequest
from tests.support.news_corpus import Story
from tests.support.workers import WorkerProcess, start_together

#: A news worker that polls a feed server on 127.0.0.1 at test speed (each test adds its own).
NEWS_TEST_ENV = {
    "HTTP_ALLOW_LOOPBACK": "true",  # the feed server is on 127.0.0.1 (tests only)
    "NEWS_SCHEDULER_TICK_SECONDS": "0.5",
    "NEWS_MIN_POLL_SECONDS": "1",
    "NEWS_FETCH_TIMEOUT_SECONDS": "2",
    "MAX_CONCURRENCY": "4",
}


def start_news_and_spacy(factory: Any, env: dict[str, str]) -> tuple[WorkerProcess, ...]:
    """A spaCy worker and a news worker with ``env``, started together (they load in parallel)."""
    return start_together(factory("spacy", start=False), factory("news", env=env, start=False))


@dataclass
class Item:
    slug: str
    story: Story
    published: datetime
    full_in_feed: bool = True  # False: the feed has a summary; the page has the text
    link_query: str = ""  # e.g. tracking parameters appended to the link


@dataclass
class FeedSite:
    """Feeds by path; each has items and a format (rss2, atom, rss1, rss091)."""

    feeds: dict[str, tuple[str, list[Item]]] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    conditional: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    not_modified: Counter[str] = field(default_factory=Counter)
    slow_seconds: float = 30.0
    base: str = ""

    def link(self, item: Item) -> str:
        return f"{self.base}/articles/{item.slug}.html{item.link_query}"

    # -- documents ---------------------------------------------------------------------

    def rss2(self, title: str, items: list[Item]) -> str:
        out = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/">',
            f"<channel><title>{escape(title)}</title><link>{self.base}/</link>"
            "<description>Test feed</description><language>en-us</language>",
        ]
        for it in items:
            text = escape(f"<p>{it.story.text}</p>") if it.full_in_feed else ""
            out.append(
                f"<item><title>{escape(it.story.title)}</title><link>{escape(self.link(it))}</link>"
                f'<guid isPermaLink="false">{it.slug}</guid>'
                f"<pubDate>{format_datetime(it.published)}</pubDate>"
                f"<category>business</category><dc:creator>Desk</dc:creator>"
                f"<description>{escape(it.story.text[:160])}</description>"
                + (f"<content:encoded>{text}</content:encoded>" if text else "")
                + "</item>"
            )
        out.append("</channel></rss>")
        return "\n".join(out)

    def atom(self, title: str, items: list[Item]) -> str:
        out = [
            '<?xml version="1.0" encoding="utf-8"?>',
            '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">',
            f"<title>{escape(title)}</title><id>urn:test:{escape(title)}</id>",
            f"<updated>{datetime.now(UTC).isoformat()}</updated>",
        ]
        for it in items:
            content = (
                f'<content type="html">{escape("<p>" + it.story.text + "</p>")}</content>'
                if it.full_in_feed
                else ""
            )
            out.append(
                f"<entry><title>{escape(it.story.title)}</title>"
                f'<link rel="alternate" href="{escape(self.link(it))}"/>'
                f"<id>urn:test:{it.slug}</id><updated>{it.published.isoformat()}</updated>"
                f"<published>{it.published.isoformat()}</published>"
                f"<author><name>Atom Desk</name></author>"
                f"<summary>{escape(it.story.text[:160])}</summary>{content}</entry>"
            )
        out.append("</feed>")
        return "\n".join(out)

    def rss1(self, title: str, items: list[Item]) -> str:
        lis = "".join(f'<rdf:li rdf:resource="{escape(self.link(i))}"/>' for i in items)
        out = [
            '<?xml version="1.0"?>',
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">',
            f'<channel rdf:about="{self.base}/rss1"><title>{escape(title)}</title>'
            f"<link>{self.base}/</link><description>RDF feed</description>"
            f"<dc:language>en</dc:language><items><rdf:Seq>{lis}</rdf:Seq></items></channel>",
        ]
        for it in items:
            out.append(
                f'<item rdf:about="{escape(self.link(it))}"><title>{escape(it.story.title)}</title>'
                f"<link>{escape(self.link(it))}</link>"
                f"<description>{escape(it.story.text)}</description>"
                f"<dc:date>{it.published.isoformat()}</dc:date></item>"
            )
        out.append("</rdf:RDF>")
        return "\n".join(out)

    def rss091(self, title: str, items: list[Item]) -> str:
        out = [
            '<?xml version="1.0"?>',
            '<rss version="0.91"><channel>',
            f"<title>{escape(title)}</title><link>{self.base}/</link>"
            "<description>Old feed</description><language>en</language>",
        ]
        for it in items:
            out.append(
                f"<item><title>{escape(it.story.title)}</title><link>{escape(self.link(it))}</link>"
                f"<description>{escape(it.story.text)}</description></item>"
            )
        out.append("</channel></rss>")
        return "\n".join(out)

    def page(self, item: Item) -> str:
        paragraphs = "".join(f"<p>{escape(s)}.</p>" for s in item.story.text.split(". "))
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(item.story.title)}</title>"
            f'<link rel="canonical" href="{self.base}/articles/{item.slug}.html"></head><body>'
            "<nav><a href='/'>Home</a> | <a href='/world'>World</a> | <a href='/tech'>Tech</a></nav>"
            f"<article><h1>{escape(item.story.title)}</h1>{paragraphs}</article>"
            "<footer>Copyright Test News. All rights reserved. Subscribe to our newsletter.</footer>"
            "</body></html>"
        )

    # -- the site (one function; over HTTP with ``app``, in process with ``respond``) ---------

    async def respond(self, request: HttpRequest) -> HttpResponse:
        """Answer ``request`` as the feed server does (a ``RoutedHttpFetcher`` site)."""
        path = urlsplit(request.url).path
        if path.startswith("/feeds/"):
            return self.serve_feed(path.removeprefix("/feeds/"), request)
        if path.startswith("/articles/") and path.endswith(".html"):
            return self.serve_page(path.removeprefix("/articles/").removesuffix(".html"))
        fixed = {
            "/malformed.xml": self.serve_malformed,
            "/slow.xml": self.serve_slow,
            "/moved.xml": self.serve_redirect,
            "/html-page": self.serve_html,
            "/gone.xml": self.serve_gone,
        }.get(path)
        return await fixed() if fixed is not None else _answer(404)

    def app(self) -> web.Application:
        async def handle(request: web.Request) -> web.Response:
            answer = await self.respond(
                HttpRequest(request.method, str(request.url), dict(request.headers))
            )
            return web.Response(status=answer.status, headers=answer.headers, body=answer.body)

        app = web.Application()
        app.router.add_get("/{path:.*}", handle)
        return app

    def serve_feed(self, name: str, request: HttpRequest) -> HttpResponse:
        self.hits[name] += 1
        if name not in self.feeds:
            return _answer(404)
        fmt, items = self.feeds[name]
        body = getattr(self, fmt)(f"Feed {name}", items)
        etag = f'"{abs(hash(body)) % 10**12}"'
        newest = max((i.published for i in items), default=datetime(2026, 1, 1, tzinfo=UTC))
        last_modified = format_datetime(newest.astimezone(UTC), usegmt=True)
        inm, ims = request.header("If-None-Match"), request.header("If-Modified-Since")
        self.conditional.append((name, inm, ims))
        if fmt == "rss091":  # no validators at all: only the body hash tells it is unchanged
            headers = {}
        elif fmt == "atom":  # Last-Modified only
            if ims == last_modified:
                self.not_modified[name] += 1
                return _answer(304)
            headers = {"Last-Modified": last_modified}
        else:
            if inm == etag:
                self.not_modified[name] += 1
                return _answer(304)
            headers = {"ETag": etag}
        ctype = "application/atom+xml" if fmt == "atom" else "application/rss+xml"
        return _answer(200, body, ctype, headers)

    def serve_page(self, slug: str) -> HttpResponse:
        self.hits[f"page:{slug}"] += 1
        for _, items in self.feeds.values():
            for it in items:
                if it.slug == slug:
                    return _answer(200, self.page(it), "text/html")
        return _answer(404)

    async def serve_malformed(self) -> HttpResponse:
        self.hits["malformed"] += 1
        body = '<?xml version="1.0"?><rss version="2.0"><channel><title>Broken & <item><title'
        return _answer(200, body, "application/rss+xml")

    async def serve_slow(self) -> HttpResponse:
        self.hits["slow"] += 1
        await asyncio.sleep(self.slow_seconds)
        return _answer(200, "<rss/>", "application/rss+xml")

    async def serve_redirect(self) -> HttpResponse:
        self.hits["moved"] += 1
        return _answer(301, headers={"Location": "/feeds/atom"})

    async def serve_html(self) -> HttpResponse:
        self.hits["html"] += 1
        return _answer(200, "<html><body><p>Not a feed</p></body></html>", "text/html")

    async def serve_gone(self) -> HttpResponse:
        self.hits["gone"] += 1
        return _answer(503, headers={"Retry-After": "120"})


def _answer(
    status: int, text: str = "", ctype: str | None = None, headers: dict[str, str] | None = None
) -> HttpResponse:
    """A response as aiohttp's ``web.Response(text=..., content_type=...)`` would send it."""
    all_headers = dict(headers or {})
    if ctype is not None:
        all_headers["Content-Type"] = f"{ctype}; charset=utf-8"
    return HttpResponse(status, all_headers, text.encode(), url="")


def items_from(
    stories: list[Story],
    prefix: str,
    *,
    start: datetime | None = None,
    step: timedelta = timedelta(minutes=7),
    full: bool = True,
) -> list[Item]:
    start = start or datetime.now(UTC) - timedelta(hours=2)
    return [
        Item(f"{prefix}-{i}", s, start + i * step, full_in_feed=full) for i, s in enumerate(stories)
    ]

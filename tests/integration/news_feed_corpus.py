"""feedparser 6.0.14's own test feeds (its sdist, pinned by sha256) through the news worker.

Fetched once with ``pip download`` into the gitignored ``var/corpora/`` and read from
there; never committed. Every ``.xml`` file of the sdist's ``tests/`` is served from a
local HTTP server on 127.0.0.1, added with ``feed.add`` and polled with ``feed.poll``
through the worker's handlers; the result is compared with what feedparser itself
reads from the same bytes with the same headers:

- accounted: per feed, ``new_articles`` + the ``skipped`` counts == feedparser's entries;
- titles: each stored article's title == feedparser's title of its entry (visible text,
  whitespace collapsed; ``(untitled)`` for an entry with none);
- entities: no ``&name;``/``&#n;`` left in any stored title, summary, text or keyword.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import feedparser
import lxml.html
from aiohttp import web

from agents.news.normalize import article_id_for, canonical_url
from tests.support.corpora import CORPORA, unpacked_sdist

CORPUS_DIR = CORPORA / "feedparser-6.0.14"
SDIST = "feedparser-6.0.14.tar.gz"
SHA256 = "088679b0c4b543ee211a820dd544698c76a402122eae7473c04a43425f283d06"
CONTENT_TYPE = "application/xml"
ENTITY = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]{1,31});")


def fetch() -> Path:
    """The unpacked sdist's ``tests/`` (downloaded and checksum-verified on first use)."""
    return unpacked_sdist("feedparser==6.0.14", SDIST, SHA256, CORPUS_DIR) / "tests"


def feed_files(tests: Path) -> list[Path]:
    return sorted(tests.rglob("*.xml"))


def corpus_app(tests: Path) -> web.Application:
    """Each file at ``/<path under tests/>`` as ``application/xml``."""

    async def serve(request: web.Request) -> web.Response:
        path = (tests / request.match_info["path"]).resolve()
        if tests.resolve() not in path.parents or not path.is_file():
            raise web.HTTPNotFound()
        return web.Response(body=path.read_bytes(), content_type=CONTENT_TYPE)

    app = web.Application()
    app.router.add_get("/{path:.+}", serve)
    return app


def reference(body: bytes, url: str) -> Any:
    """What feedparser reads from the bytes the worker fetched (same headers)."""
    headers = {"content-location": url, "content-type": CONTENT_TYPE}
    return feedparser.parse(body, response_headers=headers, sanitize_html=True)


def expected_title(entry: Any) -> str:
    """feedparser's title as visible text: markup removed when it is (X)HTML."""
    value = entry.get("title") or ""
    kind = (entry.get("title_detail") or {}).get("type")
    if kind in ("text/html", "application/xhtml+xml") and "<" in value:
        value = lxml.html.fragment_fromstring(value, create_parent="div").text_content()
    elif kind in ("text/html", "application/xhtml+xml"):
        value = html.unescape(value)
    text = " ".join(value.split())
    text = ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    return " ".join(text.split())[:500] or "(untitled)"


@dataclass
class CorpusReport:
    files: int = 0
    feeds_with_entries: int = 0
    entries: int = 0  # feedparser's entries in the feeds that were polled successfully
    stored: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    accounted_feeds: int = 0
    unaccounted: list[str] = field(default_factory=list)
    failed: Counter[str] = field(default_factory=Counter)  # failed polls by error code
    failed_with_entries: list[str] = field(default_factory=list)
    titles_checked: int = 0
    title_mismatches: list[str] = field(default_factory=list)
    literal_entities: list[str] = field(default_factory=list)
    cdf_ok: int = 0

    @property
    def accounted(self) -> int:
        return self.stored + sum(self.skipped.values())

    def summary(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "feeds_with_entries": self.feeds_with_entries,
            "entries": self.entries,
            "stored": self.stored,
            "skipped": dict(sorted(self.skipped.items())),
            "accounted": self.accounted,
            "unaccounted_feeds": len(self.unaccounted),
            "failed_polls": dict(sorted(self.failed.items())),
            "failed_with_entries": len(self.failed_with_entries),
            "titles_checked": self.titles_checked,
            "title_mismatches": len(self.title_mismatches),
            "literal_entities": len(self.literal_entities),
            "cdf_ok": self.cdf_ok,
        }


def check_feed(
    report: CorpusReport,
    name: str,
    body: bytes,
    url: str,
    result: dict[str, Any] | None,
    error: str | None,
    article_of: Any,
) -> None:
    """Compare one poll's result with feedparser's reading of the same bytes."""
    ref = reference(body, url)
    n = len(ref.entries)
    report.files += 1
    report.feeds_with_entries += n > 0
    if result is None:
        report.failed[error or "?"] += 1
        if n:
            report.failed_with_entries.append(f"{name}: {error}")
        return
    report.entries += n
    report.stored += result["new_articles"]
    report.skipped.update(result["skipped"])
    if result["new_articles"] + sum(result["skipped"].values()) == n:
        report.accounted_feeds += 1
    else:
        report.unaccounted.append(f"{name}: {n} entries, result {result}")
    if "/cdf/" in name:
        report.cdf_ok += 1
    stored = set(result["article_ids"])
    for entry in ref.entries:
        link = (entry.get("link") or "").strip()
        if not link:
            continue
        article = article_of(article_id_for(canonical_url(link)))
        if article is None or article.article_id not in stored:
            continue
        report.titles_checked += 1
        want = expected_title(entry)
        if article.title != want:
            report.title_mismatches.append(f"{name}: {article.title!r} != {want!r}")
        texts = [article.title, article.summary, article.text, *article.enrichment.keywords]
        if any(ENTITY.search(t) for t in texts):
            report.literal_entities.append(f"{name}: {[t[:80] for t in texts]!r}")

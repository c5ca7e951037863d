"""Feed documents -> entries, with feedparser (RSS 0.9x/1.0/2.0, Atom 0.3/1.0, CDF).

Every entry feedparser yields is kept (an entry without a link or text is counted
by the ingest pipeline with its reason, never dropped here)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import feedparser

from enginedge_streams.errors import PermanentError


class FeedMalformedError(PermanentError):
    code = "FEED_MALFORMED"


@dataclass
class RawEntry:
    link: str
    title: str
    summary_html: str
    content_html: str
    published: time.struct_time | None
    author: str | None
    tags: list[str]
    language: str | None
    guid: str | None
    title_html: bool = False  # the title is (X)HTML markup, not plain text


@dataclass
class ParsedFeed:
    title: str | None
    language: str | None
    version: str
    entries: list[RawEntry] = field(default_factory=list)
    malformed: bool = False
    problem: str | None = None


def parse_feed(body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse a feed document. Raises ``FEED_MALFORMED`` when nothing usable is in it.

    A feed document with an XML error that feedparser still reads is kept
    (``malformed=True``, the problem reported in the feed's status)."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed: Any = feedparser.parse(body, response_headers=headers, sanitize_html=True)
    problem = None
    exc = None
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        problem = f"{type(exc).__name__}: {exc}"[:500] if exc is not None else "malformed"
    version = parsed.get("version") or ""
    entries = [_entry(e) for e in parsed.get("entries", [])]
    if not version and _CDF_ROOT.search(body[:4096]):
        version = "cdf"  # feedparser reads CDF but names no version for it
    if not version and not entries:
        raise FeedMalformedError(
            f"not a feed: {problem or 'no RSS or Atom document found'}",
            details={"problem": problem},
        )
    if problem and not entries and not _readable(exc, version):
        raise FeedMalformedError(f"malformed feed: {problem}", details={"problem": problem})
    feed = parsed.get("feed", {})
    return ParsedFeed(
        title=(feed.get("title") or None),
        language=feed.get("language") or None,
        version=version or "unknown",
        entries=entries,
        malformed=bool(problem),
        problem=problem,
    )


#: The root element of a Channel Definition Format document (after an optional prolog).
_CDF_ROOT = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?[^>]*\?>\s*|<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*<channel[\s>]",
    re.I | re.S,
)


#: feedparser's notices about a readable document (a wrong or missing content type,
#: an encoding override): malformed=True, yet a feed without entries is not an error.
_NOTICES = (
    feedparser.CharacterEncodingOverride,
    feedparser.NonXMLContentType,
    feedparser.CharacterEncodingUnknown,
)


def _readable(exc: Exception | None, version: str) -> bool:
    """A document whose only problem is a notice, or HTML entities undefined in XML
    (``&aacute;`` in RSS: feedparser's lenient parser decodes them), is a readable feed."""
    if isinstance(exc, _NOTICES):
        return True
    return bool(version) and "undefined entity" in str(exc)


def has_text(e: RawEntry) -> bool:
    return bool(e.title.strip() or e.summary_html.strip() or e.content_html.strip())


def _entry(e: Any) -> RawEntry:
    content = ""
    for c in e.get("content", []) or []:
        value = c.get("value") or ""
        if len(value) > len(content):
            content = value
    summary = e.get("summary") or ""
    if summary == content:
        summary = ""
    language = None
    for detail in (e.get("title_detail"), e.get("summary_detail"), *(e.get("content") or [])):
        if detail and detail.get("language"):
            language = detail["language"]
            break
    tags = []
    for t in e.get("tags", []) or []:
        term = (t.get("label") or t.get("term") or "").strip()
        if term and len(term) <= 64:
            tags.append(term)
    return RawEntry(
        link=(e.get("link") or "").strip(),
        title=e.get("title") or "",
        summary_html=summary,
        content_html=content,
        published=e.get("published_parsed") or e.get("updated_parsed") or e.get("created_parsed"),
        author=e.get("author") or None,
        tags=tags[:20],
        language=language,
        guid=e.get("id") or None,
        title_html=(e.get("title_detail") or {}).get("type")
        in ("text/html", "application/xhtml+xml"),
    )

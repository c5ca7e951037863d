"""The news worker's CPU-heavy steps, run in the compute pool's child processes.

Feed parsing (feedparser with HTML sanitising) and the entries' HTML-to-text,
article-page extraction (trafilatura), and per-article fingerprints (content
hash, language detection, the MinHash signature over word shingles). Plain
top-level functions of picklable values: the pool kills a step at the poll
command's deadline, so a hostile feed or page costs a child, not the loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.news.dedupe import signature_bytes
from agents.news.extract import PageText, extract_page
from agents.news.normalize import content_hash, detect_language, html_to_text
from agents.news.parsing import ParsedFeed, parse_feed


def parse_feed_step(
    body: bytes, url: str, content_type: str | None
) -> tuple[ParsedFeed, list[tuple[str, str]]]:
    """The parsed feed, and each entry's (summary, content) as plain text."""
    parsed = parse_feed(body, url=url, content_type=content_type)
    texts = [(html_to_text(e.summary_html), html_to_text(e.content_html)) for e in parsed.entries]
    return parsed, texts


def extract_page_step(html: str, url: str) -> PageText:
    return extract_page(html, url)


@dataclass(frozen=True)
class Fingerprint:
    text: str
    content_hash: str
    language: str | None
    signature: bytes | None  # MinHash values (uint32), None for too-short texts


def fingerprint_step(
    items: list[tuple[str, str, str | None]], max_chars: int, num_perm: int
) -> list[Fingerprint]:
    """(title, text, known language) -> the article's final text and its fingerprints."""
    out = []
    for title, raw_text, language in items:
        text = raw_text[:max_chars] or title
        both = f"{title}\n{text}"
        out.append(
            Fingerprint(
                text=text,
                content_hash=content_hash(title, text),
                language=language or detect_language(both),
                signature=signature_bytes(both, num_perm),
            )
        )
    return out

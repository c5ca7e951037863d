"""Main text of an article page (trafilatura), for entries whose feed has only a summary."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageText:
    text: str
    canonical_url: str | None
    language: str | None


def extract_page(html: str, url: str) -> PageText:
    import trafilatura

    text = trafilatura.extract(
        html,
        url=url,
        include_comments=False,
        include_tables=False,
        favor_precision=True,
        deduplicate=True,
    )
    meta = trafilatura.extract_metadata(html, default_url=url)
    canonical = getattr(meta, "url", None) if meta is not None else None
    language = getattr(meta, "language", None) if meta is not None else None
    return PageText(text or "", canonical if canonical != url else None, language)

"""``web_page_text``: fetch a page (safe HTTP policy) and extract its main text (trafilatura)."""

from __future__ import annotations

import asyncio
from typing import Any

from agents.agent_tool.ports import Tool, ToolContext, ToolDeps
from enginedge_streams.errors import PermanentError
from enginedge_streams.ports.http_fetcher import HttpFetcher


def extract(html: str, url: str) -> dict[str, Any]:
    import trafilatura

    text = trafilatura.extract(
        html, url=url, include_comments=False, include_tables=True, favor_precision=True
    )
    meta = trafilatura.extract_metadata(html, default_url=url)
    return {"text": text or "", "title": meta.title if meta is not None else None}


class WebPageTextTool:
    name = "web_page_text"
    description = (
        "Fetch a public web page and return its title and main text, without navigation, "
        "scripts and boilerplate."
    )
    args_schema: dict[str, Any] = {
        "type": "object",
        "properties": {"url": {"type": "string", "minLength": 1, "maxLength": 4_000}},
        "required": ["url"],
        "additionalProperties": False,
    }
    read_only = True
    cacheable = True

    def __init__(self, http: HttpFetcher, max_chars: int) -> None:
        self.http = http
        self.max_chars = max_chars

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> Any:
        resp = await self.http.fetch(args["url"])
        if resp.status >= 400:
            raise PermanentError(
                f"{args['url']} answered HTTP {resp.status}",
                code="HTTP_STATUS",
                details={"status": resp.status},
            )
        if resp.content_type not in ("text/html", "application/xhtml+xml", "text/plain", ""):
            raise PermanentError(
                f"{resp.content_type!r} is not a web page", code="UNSUPPORTED_CONTENT_TYPE"
            )
        page = await asyncio.to_thread(extract, resp.text(), resp.url)
        text = page["text"]
        return {
            "url": resp.url,
            "title": page["title"],
            "text": text[: self.max_chars],
            "truncated": len(text) > self.max_chars,
        }


def create(deps: ToolDeps) -> Tool:
    return WebPageTextTool(deps.http, deps.max_output_chars)

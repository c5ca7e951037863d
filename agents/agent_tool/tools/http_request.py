"""``http_request``: GET/POST/HEAD through the platform's SSRF-safe HTTP client.

Every hop (redirects included) goes through ``SafeHttpClient``: only http(s),
only hosts in ``ALLOWED_DOMAINS`` (when set), only public addresses, size and
redirect caps. A refused URL is FAILED ``URL_REFUSED``; an HTTP error status
is a normal result (the caller sees the status).
"""

from __future__ import annotations

from typing import Any

import orjson

from agents.agent_tool.ports import Tool, ToolContext, ToolDeps
from enginedge_streams.ports.http_fetcher import HttpFetcher

#: Request headers a caller may set; everything else (Host, Cookie...) is dropped.
ALLOWED_HEADERS = {"accept", "accept-language", "content-type", "user-agent", "authorization"}
RETURNED_HEADERS = {"content-type", "content-length", "last-modified", "etag", "location"}


class HttpRequestTool:
    name = "http_request"
    description = (
        "Make an HTTP GET, POST or HEAD request to a public URL and return the status, "
        "main headers and the body as text (truncated)."
    )
    args_schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "url": {"type": "string", "minLength": 1, "maxLength": 4_000},
            "method": {"enum": ["GET", "POST", "HEAD"], "default": "GET"},
            "headers": {
                "type": "object",
                "additionalProperties": {"type": "string", "maxLength": 2_000},
                "maxProperties": 20,
            },
            "body": {"type": "string", "maxLength": 100_000},
            "json": {"description": "JSON body (sets Content-Type: application/json)."},
        },
        "required": ["url"],
        "additionalProperties": False,
        "not": {"required": ["body", "json"]},
    }
    read_only = False  # POST may change things
    cacheable = False

    def __init__(self, http: HttpFetcher, max_chars: int) -> None:
        self.http = http
        self.max_chars = max_chars

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> Any:
        headers = {
            k: v for k, v in (args.get("headers") or {}).items() if k.lower() in ALLOWED_HEADERS
        }
        body: bytes | None = None
        if "json" in args:
            body = orjson.dumps(args["json"])
            headers.setdefault("Content-Type", "application/json")
        elif "body" in args:
            body = args["body"].encode()
        resp = await self.http.fetch(
            args["url"], method=args.get("method", "GET"), headers=headers or None, body=body
        )
        text = resp.text()
        return {
            "status": resp.status,
            "url": resp.url,
            "redirects": resp.redirects,
            "headers": {k: v for k, v in resp.headers.items() if k in RETURNED_HEADERS},
            "body": text[: self.max_chars],
            "truncated": len(text) > self.max_chars,
        }


def create(deps: ToolDeps) -> Tool:
    return HttpRequestTool(deps.http, deps.max_output_chars)

"""`enginedge search QUERY`: the data processing worker's ``document.search`` from a shell.

Each hit prints its rank, score, the document's source (``source_path`` that
``enginedge ingest`` records, else the filename or the document id), its page
and heading path, and the start of the chunk's text. ``--json`` prints the
worker's whole result. Exit status 1 when the search fails, 0 otherwise (also
when nothing matches).
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import click

from enginedge_streams.settings import Settings, load


def source_of(hit: dict[str, Any]) -> str:
    """Where a hit's document came from: the ingested file's path when known."""
    meta = hit.get("metadata") or {}
    return str(
        meta.get("source_path") or meta.get("filename") or meta.get("source")
        or hit.get("document_id")
    )  # fmt: skip


def format_hit(hit: dict[str, Any], width: int = 200) -> str:
    where = source_of(hit)
    if hit.get("page"):
        where += f" p.{hit['page']}"
    if hit.get("headings"):
        where += " > " + " > ".join(hit["headings"])
    text = " ".join(str(hit.get("text", "")).split())
    if len(text) > width:
        text = text[: width - 1] + "…"
    return f"{hit.get('rank', '?'):>3}. [{hit.get('score', 0):.4f}] {where}\n     {text}"


def search_payload(  # noqa: PLR0917 - the CLI's options, in order
    query: str, collection: str, top_k: int, mode: str, alpha: float, where: tuple[str, ...]
) -> dict[str, Any]:
    filters: dict[str, Any] = {}
    for item in where:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected key=value, got {item!r}", param_hint="--where")
        filters.setdefault(key, []).append(value)
    payload: dict[str, Any] = {"query": query, "collection": collection, "top_k": top_k}
    payload["mode"] = mode
    if mode == "hybrid":
        payload["alpha"] = alpha
    if filters:
        payload["filter"] = {k: v[0] if len(v) == 1 else v for k, v in filters.items()}
    return payload


@click.command("search")
@click.argument("query")
@click.option("--collection", default="default", show_default=True)
@click.option("-k", "--top-k", default=5, show_default=True, type=click.IntRange(1, 100))
@click.option(
    "--mode",
    type=click.Choice(["hybrid", "vector", "keyword"]),
    default="hybrid",
    show_default=True,
)
@click.option("--alpha", default=0.8, show_default=True, type=click.FloatRange(0.0, 1.0))
@click.option("--where", multiple=True, help="Metadata filter key=value (repeatable).")
@click.option("--json", "as_json", is_flag=True, default=False, help="Print the whole result.")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait.")
def search(  # noqa: PLR0917 - one parameter per option
    query: str,
    collection: str,
    top_k: int,
    mode: str,
    alpha: float,
    where: tuple[str, ...],
    as_json: bool,
    timeout: float,
) -> None:
    """Search COLLECTION for QUERY (hybrid by default); hits show their source path."""
    from enginedge_streams.client import BusClient, new_client_name
    from enginedge_streams.errors import EnginEdgeError

    payload = search_payload(query, collection, top_k, mode, alpha, where)
    s = load(Settings)

    async def go() -> int:
        async with BusClient.from_settings(s, client_name=new_client_name("enginedge-search")) as c:
            command = c.command("document.search", payload, timeout_ms=int(timeout * 1000))
            try:
                result = await c.call_command("data_processing", command, timeout=timeout)
            except EnginEdgeError as exc:
                click.echo(f"error: {exc.code}: {exc.message}", err=True)
                return 1
        if result.status.value != "COMPLETED":
            err = result.error
            click.echo(f"FAILED: {err.code}: {err.message}" if err else "FAILED", err=True)
            return 1
        body = result.result or {}
        if as_json:
            click.echo(json.dumps(body, indent=2, default=str))
            return 0
        hits = body.get("results") or []
        click.echo(f"{len(hits)} hits for {query!r} in {collection} ({mode})")
        for hit in hits:
            click.echo(format_hit(hit))
        return 0

    sys.exit(asyncio.run(go()))

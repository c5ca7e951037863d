"""`enginedge ingest PATH...`: bulk document ingestion through the bus, with a progress bar.

Each file becomes one ``document.ingest`` command (inline base64, or a path
under the worker's IMPORT_DIR with ``--import-dir``); up to ``--concurrency``
run at once. The bar counts files; each file in flight shows its pages
(``pages_done``/``pages_total`` from the worker's ``GET /commands/{id}``).
Each command id is printed when it is sent and each failure as it happens.
With ``--import-dir``, a file outside that directory is refused (the worker
could not read it by path) unless ``--inline`` says to send it inline.
Every document's metadata carries ``source_path`` (the file's absolute path),
so search hits say which ``index.html`` they come from.
Exit status 1 if any file failed.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from enginedge_streams.settings import Settings, load

SUFFIXES = {
    ".pdf", ".docx", ".txt", ".html", ".htm", ".xhtml", ".md", ".markdown", ".xml", ".eml",
    ".epub", ".odt", ".rtf", ".pptx", ".xlsx", ".csv",
}  # fmt: skip
#: The worker's inline limit (1,400,000 base64 characters). Above ~700 KB the client sends the
#: file by artifact reference (claim check): the bus caps a command at MAX_COMMAND_BYTES.
INLINE_LIMIT = 1_050_000


def collect(paths: tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in SUFFIXES))
        elif path.is_file():
            files.append(path)
        else:
            raise click.BadParameter(f"no such file or directory: {raw}", param_hint="PATH")
    return files


def source_for(path: Path, import_dir: Path | None, *, inline: bool = False) -> dict[str, Any]:
    if import_dir is not None:
        resolved, root = path.resolve(), import_dir.resolve()
        if resolved.is_relative_to(root):
            return {"kind": "path", "path": str(resolved.relative_to(root))}
        if not inline:
            raise click.ClickException(
                f"{path} is outside --import-dir {import_dir}: the worker cannot read it by "
                "path; move it there or pass --inline to send it inline"
            )
    size = path.stat().st_size
    if size > INLINE_LIMIT:
        raise click.ClickException(
            f"{path} is {size} bytes: too large to send inline; put it under the worker's "
            "IMPORT_DIR and pass --import-dir"
        )
    return {
        "kind": "inline",
        "content_base64": base64.b64encode(path.read_bytes()).decode(),
        "filename": path.name,
    }


def _status(url: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - the worker's own URL
            data: dict[str, Any] = json.loads(resp.read())
            return data
    except (urllib.error.URLError, OSError, ValueError):
        return {}


@dataclass
class _Run:
    client: Any
    bar: Any
    total_task: Any
    base: dict[str, Any]
    root: Path | None
    timeout: float
    worker_url: str
    inline: bool = False
    outcomes: list[tuple[Path, str, str]] = field(default_factory=list)

    def payload(self, path: Path) -> dict[str, Any]:
        metadata = {**self.base["metadata"], "source_path": str(path.resolve())}
        source = source_for(path, self.root, inline=self.inline)
        return {**self.base, "metadata": metadata, "source": source}

    async def one(self, path: Path, sem: asyncio.Semaphore) -> None:
        async with sem:
            task = self.bar.add_task(f"  {path.name}", total=None)
            payload = self.payload(path)
            command = self.client.command(
                "document.ingest", payload, timeout_ms=int(self.timeout * 1000)
            )
            listener = await self.client.listen("data_processing")
            await self.client.send("data_processing", command)
            self.bar.console.print(f"sent     {path}  command {command.command_id}", soft_wrap=True)
            waiter = asyncio.ensure_future(listener.wait(command.command_id, self.timeout))
            url = f"{self.worker_url.rstrip('/')}/commands/{command.command_id}"
            while not waiter.done():
                prog = (await asyncio.to_thread(_status, url)).get("progress") or {}
                if prog.get("chunks_total"):  # one-page formats: chunks embedded / total
                    done = prog.get("chunks_embedded", 0)
                    self.bar.update(task, total=prog["chunks_total"], completed=done)
                elif "pages_total" in prog:
                    done = prog.get("pages_done", 0)
                    self.bar.update(task, total=prog["pages_total"], completed=done)
                await asyncio.wait({waiter}, timeout=0.5)
            status, note = _describe(waiter)
            self.outcomes.append((path, status, note))
            if status != "COMPLETED":  # as it happens, not only in the summary
                self.bar.console.print(
                    f"FAILED   {path}  command {command.command_id}: {note}", soft_wrap=True
                )
            self.bar.remove_task(task)
            self.bar.advance(self.total_task)


def _describe(waiter: asyncio.Future[Any]) -> tuple[str, str]:
    try:
        result = waiter.result()
    except Exception as exc:
        return "FAILED", str(exc)
    if result.status.value != "COMPLETED":
        err = result.error
        return "FAILED", f"{err.code}: {err.message}" if err else result.status.value
    r = result.result or {}
    note = f"{r.get('chunk_count')} chunks, {r.get('pages')} pages"
    if r.get("ocr_used"):
        note += f", OCR on {r.get('ocr_pages')} pages"
    return "COMPLETED", note


def _payload(options: dict[str, Any]) -> dict[str, Any]:
    """The part of every file's command that comes from the options (not from the file)."""
    collection, strategy, owner = options["collection"], options["strategy"], options["owner"]
    chunk_size, chunk_overlap = options["chunk_size"], options["chunk_overlap"]
    meta = options["meta"]
    metadata: dict[str, str] = {}
    for item in meta:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected key=value, got {item!r}", param_hint="--meta")
        metadata[key] = value
    chunking: dict[str, Any] = {"strategy": strategy}
    if chunk_size is not None:
        chunking["chunk_size"] = chunk_size
    if chunk_overlap is not None:
        chunking["chunk_overlap"] = chunk_overlap
    payload: dict[str, Any] = {"collection": collection, "chunking": chunking, "metadata": metadata}
    if owner:
        payload["owner"] = owner
    return payload


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True)
@click.option("--collection", default="default", show_default=True)
@click.option("--strategy", type=click.Choice(["recursive", "token"]), default="recursive")
@click.option("--chunk-size", type=int, default=None, help="Default: the worker's setting.")
@click.option("--chunk-overlap", type=int, default=None)
@click.option("--meta", "meta", multiple=True, help="Metadata as key=value (repeatable).")
@click.option("--owner", default=None)
@click.option(
    "--import-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="The worker's IMPORT_DIR: files under it are sent by path, not inline.",
)
@click.option(
    "--inline",
    is_flag=True,
    default=False,
    help="With --import-dir: send files outside it inline instead of refusing them.",
)
@click.option("--concurrency", default=2, show_default=True, type=click.IntRange(1, 32))
@click.option("--timeout", default=900.0, show_default=True, help="Seconds per document.")
@click.option(
    "--worker-url",
    default="http://127.0.0.1:3003",
    show_default=True,
    help="The worker's web server, for page progress.",
)
def ingest(  # noqa: PLR0917 - one parameter per option
    paths: tuple[str, ...],
    import_dir: str | None,
    inline: bool,
    concurrency: int,
    timeout: float,
    worker_url: str,
    **options: Any,
) -> None:
    """Ingest files (or every supported file under directories) into COLLECTION."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from enginedge_streams.client import BusClient, new_client_name

    files = collect(paths)
    base = _payload(options)  # collection, strategy, chunk_size, chunk_overlap, meta, owner
    root = Path(import_dir) if import_dir else None
    for path in files:  # refuse before sending anything
        if root is not None and not inline and not path.resolve().is_relative_to(root.resolve()):
            source_for(path, root)
    s = load(Settings)
    outcomes: list[tuple[Path, str, str]] = []

    async def go() -> None:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, TimeElapsedColumn()) as bar:
            total = bar.add_task(f"[bold]{len(files)} files", total=len(files))
            async with BusClient.from_settings(
                s, client_name=new_client_name("enginedge-ingest")
            ) as client:
                run = _Run(client, bar, total, base, root, timeout, worker_url, inline, outcomes)
                sem = asyncio.Semaphore(concurrency)
                await asyncio.gather(*(run.one(p, sem) for p in files))

    asyncio.run(go())
    failed = 0
    for path, status, note in outcomes:
        failed += status != "COMPLETED"
        click.echo(f"{status:9} {path}  {note}")
    click.echo(f"{len(outcomes) - failed} ingested, {failed} failed")
    sys.exit(1 if failed else 0)

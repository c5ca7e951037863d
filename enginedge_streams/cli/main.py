"""The ``enginedge`` command line: submit, status, results, stack, run, schemas, config."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import click

from enginedge_streams.settings import Settings, load
from enginedge_streams.worker_types import DEFAULT_PORTS


def _settings() -> Settings:
    return load(Settings)


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@click.group()
@click.version_option(package_name="enginedge-streams")
def cli() -> None:
    """EnginEdge Streams: AI workers over Kafka."""


@cli.command()
@click.argument("worker")
@click.argument("command_type")
@click.option("--payload", default="{}", help="JSON object (or @file.json).")
@click.option(
    "--file",
    "files",
    multiple=True,
    metavar="FIELD=PATH",
    help="Put a file in a payload field (dotted path, e.g. `ics=cal.ics` or "
    "`source.content_base64=cv.pdf`; `*_base64` fields get it base64-encoded). Too big for "
    "the bus: it goes by artifact reference.",
)
@click.option("--wait/--no-wait", default=False, help="Wait for the result and print it.")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait / deadline.")
@click.option("--id", "command_id", default=None, help="Command id (default: random).")
@click.option("--correlation-id", default=None)
@click.option("--user-id", default=None)
@click.option("--tenant-id", default=None)
def submit(  # noqa: PLR0917 - one parameter per CLI option
    worker: str,
    command_type: str,
    payload: str,
    files: tuple[str, ...],
    wait: bool,
    timeout: float,
    command_id: str | None,
    correlation_id: str | None,
    user_id: str | None,
    tenant_id: str | None,
) -> None:
    """Send COMMAND_TYPE to WORKER; print its id (or, with --wait, its result).

    A payload too big for the bus has its big fields uploaded to the artifact
    store (ARTIFACT_STORE) and sent by reference; one that still does not fit
    is refused before sending (PAYLOAD_TOO_LARGE, exit code 2).
    """
    from enginedge_streams.cli.payload_files import put_files
    from enginedge_streams.client import BusClient, new_client_name
    from enginedge_streams.errors import EnginEdgeError, PayloadTooLargeError

    text = open(payload[1:]).read() if payload.startswith("@") else payload  # noqa: SIM115
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--payload") from None
    if not isinstance(data, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--payload")
    put_files(data, files)
    s = _settings()
    fields: dict[str, Any] = {"timeout_ms": int(timeout * 1000)}
    for key, value in (
        ("command_id", command_id),
        ("correlation_id", correlation_id),
        ("user_id", user_id),
        ("tenant_id", tenant_id),
    ):
        if value:
            fields[key] = value

    async def go() -> int:
        client = BusClient.from_settings(s, client_name=new_client_name())  # connects on send
        async with contextlib.AsyncExitStack() as stack:
            stack.push_async_callback(client.stop)
            command = client.command(command_type, data, **fields)
            try:  # PAYLOAD_TOO_LARGE is raised before anything is sent
                if not wait:
                    await client.send(worker, command)
                    click.echo(command.command_id)
                    return 0
                result = await client.call_command(worker, command, timeout=timeout)
            except PayloadTooLargeError as exc:
                click.echo(f"error: {exc.code}: {exc.message}", err=True)
                return 2
            except EnginEdgeError as exc:  # e.g. no result before --timeout
                click.echo(f"error: {exc.code}: {exc.message}", err=True)
                return 1
            _echo_json(result.model_dump(mode="json"))
            return 0 if result.status.value == "COMPLETED" else 1

    sys.exit(asyncio.run(go()))


@cli.command()
@click.argument("command_id")
@click.option("--worker", default=None, help="Worker type (default: ask every local worker).")
@click.option("--url", default=None, help="Base URL of the worker's web server.")
def status(command_id: str, worker: str | None, url: str | None) -> None:
    """Show a command's status and result (GET /commands/{id} on its worker)."""
    if url:
        bases = [url.rstrip("/")]
    elif worker:
        bases = [f"http://127.0.0.1:{DEFAULT_PORTS.get(worker, 8000)}"]
    else:
        bases = [f"http://127.0.0.1:{p}" for p in DEFAULT_PORTS.values()]
    for base in bases:
        try:
            with urllib.request.urlopen(f"{base}/commands/{command_id}", timeout=5) as resp:  # noqa: S310
                _echo_json(json.loads(resp.read()))
                return
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                click.echo(f"{base}: HTTP {exc.code}", err=True)
        except (urllib.error.URLError, OSError):
            continue
    click.echo(f"command {command_id} not found", err=True)
    sys.exit(1)


@cli.command()
@click.option("--worker", "workers", multiple=True, help="Worker type(s); default: all.")
@click.option("--follow/--no-follow", default=False, help="Keep waiting for new results.")
@click.option("--from-beginning", is_flag=True, help="Start at the oldest retained result.")
def results(workers: tuple[str, ...], follow: bool, from_beginning: bool) -> None:
    """Print results as JSON lines (from now, or --from-beginning)."""
    from aiokafka import AIOKafkaConsumer

    s = _settings()
    types = list(workers) or list(DEFAULT_PORTS)
    topics = [f"{s.topic_prefix}worker.{t}.results" for t in types]

    async def go() -> None:
        consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=s.bootstrap_servers,
            group_id=None,
            auto_offset_reset="earliest" if from_beginning else "latest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=1000)
                for messages in batch.values():
                    for msg in messages:
                        click.echo((msg.value or b"").decode("utf-8", "replace"))
                if not batch and not follow:
                    break
        finally:
            await consumer.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(go())


@cli.group()
def stack() -> None:
    """Manage the local services (Kafka, Redis, ...): up, down, status."""


@stack.command("up")
@click.argument("services", nargs=-1)
def stack_up(services: tuple[str, ...]) -> None:
    """Install (if needed) and start the local services, and wait until ready."""
    from enginedge_streams.stack.services import select

    for service in select(list(services)):
        click.echo(f"starting {service.name} ...", nl=False)
        service.start()
        st = service.status()
        click.echo(f" ready at {st.address} (pid {st.pid})")


@stack.command("down")
@click.argument("services", nargs=-1)
def stack_down(services: tuple[str, ...]) -> None:
    """Stop the local services (by their PIDs)."""
    from enginedge_streams.stack.services import select

    for service in reversed(select(list(services))):
        service.stop()
        click.echo(f"stopped {service.name}")


@stack.command("status")
def stack_status() -> None:
    """Show whether each local service runs."""
    from enginedge_streams.stack.services import select

    ok = True
    for service in select(None):
        st = service.status()
        ok = ok and st.running
        state = f"running (pid {st.pid})" if st.running else "stopped"
        click.echo(f"{st.name:10} {state:24} {st.address} {st.detail}")
    sys.exit(0 if ok else 1)


@cli.command()
@click.option(
    "--workers", default=None, help="Worker types (comma list or all). Default: WORKER_TYPE or all."
)
def run(workers: str | None) -> None:
    """Run worker processes on the local stack (one Faust worker per type)."""
    import agents
    from enginedge_streams.bootstrap import worker_types
    from enginedge_streams.supervisor import run_forever

    s = _settings()
    wanted = workers or s.worker_type or "all"
    types = worker_types(s.model_copy(update={"worker_type": wanted}))
    click.echo(f"running: {', '.join(types)} (known: {', '.join(agents.available())})")
    extra_env: dict[str, str] = {}
    if "identity" in types and not os.environ.get("IDENTITY_ENCRYPTION_KEY"):
        key_file = dev_identity_key()
        extra_env["IDENTITY_ENCRYPTION_KEY"] = key_file.read_text().strip()
        click.echo(f"identity: IDENTITY_ENCRYPTION_KEY not set; using the local dev key {key_file}")
    sys.exit(run_forever(types, extra_env=extra_env))


def dev_identity_key() -> Path:
    """The local stack's identity key (created once, 0600): `make run` works out of the box.

    Only for the local stack: a deployment sets IDENTITY_ENCRYPTION_KEY from a secret.
    """
    import base64
    import secrets

    from enginedge_streams.stack.base import stack_dir

    path = stack_dir() / "identity" / "encryption.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode() + "\n")
    return path


@cli.command()
@click.option("--out", default="docs/schemas", show_default=True, help="Output directory.")
def schemas(out: str) -> None:
    """Write the JSON Schemas of commands, results and every payload."""
    from enginedge_streams.schemas import write_schemas

    for path in write_schemas(out):
        click.echo(path)


@cli.command()
@click.option("--markdown", is_flag=True, help="Print the README's configuration table.")
@click.option(
    "--write-readme",
    type=click.Path(exists=True),
    default=None,
    help="Rewrite the table between the markers of this README.",
)
def config(markdown: bool, write_readme: str | None) -> None:
    """Show every setting with its environment variable and default."""

    from enginedge_streams.config_doc import inject, rows, table

    if write_readme:
        path = Path(write_readme)
        path.write_text(inject(path.read_text()))
        click.echo(f"updated {path}")
        return
    if markdown:
        click.echo(table())
        return
    for row in rows():
        click.echo(f"{row['env']}={row['default']}  # {row['description']}")


cli.add_command(__import__("enginedge_streams.cli.ingest", fromlist=["ingest"]).ingest)
cli.add_command(__import__("enginedge_streams.cli.search", fromlist=["search"]).search)
__import__("enginedge_streams.cli.workflow", fromlist=["install"]).install(cli)


def main() -> None:
    cli(prog_name="enginedge")


if __name__ == "__main__":
    main()

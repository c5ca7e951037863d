"""`enginedge workflow run|status|cancel|list|validate` and `enginedge workers`.

They talk to the orchestrator over the bus (workflow.* and workers.list
commands); the live progress of `run` and `status --follow` comes from the
`orchestrator.events` topic (one line per change when the output is not a
terminal, a redrawn table when it is).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from enginedge_streams.cli.workflow_progress import RequestEvents, RequestProgress
from enginedge_streams.settings import Settings, load

ORCHESTRATOR = "orchestrator"
TERMINAL = ("completed", "failed", "cancelled", "timed_out")


def _json_arg(text: str, name: str) -> Any:
    raw = Path(text[1:]).read_text() if text.startswith("@") else text
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint=name) from None


def _client(s: Settings) -> Any:
    from enginedge_streams.client import BusClient, new_client_name

    return BusClient.from_settings(s, client_name=new_client_name("enginedge-workflow"))


async def _call(client: Any, command: str, payload: dict[str, Any], timeout: float) -> Any:
    result = await client.call(ORCHESTRATOR, command, payload, timeout=timeout)
    if result.status.value != "COMPLETED":
        err = result.error
        raise click.ClickException(
            f"{command} failed: {err.code}: {err.message}" if err else f"{command} failed"
        )
    return result.result


async def _follow(
    client: Any, events: RequestEvents, view: dict[str, Any], *, timeout: float, live: bool
) -> dict[str, Any]:
    rid = view["request_id"]
    deadline = time.monotonic() + timeout
    last_poll = time.monotonic()
    with RequestProgress(view, live=live) as progress:
        while progress.status not in TERMINAL:
            if time.monotonic() > deadline:
                raise click.ClickException(f"{rid} still {progress.status} after {timeout:.0f}s")
            for event in await events.next(rid, 0.5):
                progress.apply_event(event)
            if time.monotonic() - last_poll > 5.0:  # a safety net for missed events
                last_poll = time.monotonic()
                progress.apply_view(
                    await _call(
                        client, "workflow.get", {"request_id": rid, "include_results": False}, 30
                    )
                )
        final: dict[str, Any] = await _call(client, "workflow.get", {"request_id": rid}, 30)
        progress.apply_view(final)
    return final


def _finish(final: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(final, indent=2, default=str))
    elif final["status"] == "completed":
        click.echo(json.dumps(final.get("output"), indent=2, default=str))
    else:
        click.echo(f"{final['status']}: {json.dumps(final.get('error'))}", err=True)
    sys.exit(0 if final["status"] == "completed" else 1)


@click.group()
def workflow() -> None:
    """Run and follow workflows on the orchestrator (WORKER_TYPE=orchestrator)."""


@workflow.command("run")
@click.argument("name", required=False)
@click.option("--definition", type=click.Path(exists=True), help="Run this YAML file instead.")
@click.option("--input", "input_", default="{}", help="JSON object (or @file.json).")
@click.option("--idempotency-key", default=None, help="The same key returns the same request.")
@click.option("--deadline", type=float, default=None, help="Request deadline (seconds).")
@click.option("--wait/--no-wait", default=True, help="Follow the progress until it ends.")
@click.option("--timeout", default=900.0, show_default=True, help="Seconds to follow.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole request as JSON.")
def run(  # noqa: PLR0917 - one parameter per CLI option
    name: str | None,
    definition: str | None,
    input_: str,
    idempotency_key: str | None,
    deadline: float | None,
    wait: bool,
    timeout: float,
    as_json: bool,
) -> None:
    """Start workflow NAME (or --definition FILE) and show its progress live."""
    if (name is None) == (definition is None):
        raise click.UsageError("give a workflow NAME or --definition FILE")
    data = _json_arg(input_, "--input")
    if not isinstance(data, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--input")
    payload: dict[str, Any] = {"input": data}
    if definition:
        import agents

        docs = agents.worker_module("orchestrator", "offline").read_yaml(Path(definition))
        if len(docs) != 1:
            raise click.BadParameter(
                "the file must hold exactly one workflow", param_hint="--definition"
            )
        payload["definition"] = docs[0]
    else:
        payload["workflow"] = name
    if idempotency_key:
        payload["idempotency_key"] = idempotency_key
    if deadline:
        payload["timeout_seconds"] = deadline
    s = load(Settings)

    async def go() -> None:
        events = RequestEvents(s)
        async with _client(s) as client:
            if wait:
                await events.start()
            try:
                view = await _call(client, "workflow.start", payload, 60)
                if not wait:
                    click.echo(view["request_id"])
                    return
                if view.get("existing"):
                    click.echo(
                        f"{view['request_id']}: the same request (idempotency key)", err=True
                    )
                final = await _follow(
                    client, events, view, timeout=timeout, live=sys.stdout.isatty() and not as_json
                )
            finally:
                await events.stop()
        _finish(final, as_json)

    asyncio.run(go())


@workflow.command("status")
@click.argument("request_id")
@click.option("--follow", is_flag=True, help="Keep showing progress until it ends.")
@click.option("--timeout", default=900.0, show_default=True, help="Seconds to follow.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole request as JSON.")
def status(request_id: str, follow: bool, timeout: float, as_json: bool) -> None:
    """Show a workflow request: status, steps with timings, output."""
    s = load(Settings)

    async def go() -> None:
        events = RequestEvents(s)
        async with _client(s) as client:
            if follow:
                await events.start()
            try:
                view = await _call(client, "workflow.get", {"request_id": request_id}, 30)
                if follow and view["status"] not in TERMINAL:
                    view = await _follow(
                        client,
                        events,
                        view,
                        timeout=timeout,
                        live=sys.stdout.isatty() and not as_json,
                    )
            finally:
                await events.stop()
        if as_json or view["status"] in TERMINAL:
            if not as_json:
                _print_steps(view)
            _finish(view, as_json)
        _print_steps(view)

    asyncio.run(go())


def _print_steps(view: dict[str, Any]) -> None:
    click.echo(f"{view['request_id']} {view['workflow']}: {view['status']}")
    for st in view["steps"]:
        took = f" {st['duration_ms']:.0f} ms" if st.get("duration_ms") is not None else ""
        why = f" - {st['reason']}" if st.get("reason") else ""
        err = f" - {st['error']['code']}: {st['error']['message']}" if st.get("error") else ""
        click.echo(
            f"  {st['id']:<16} {st['worker_type']:<16} {st['status']:<10} "
            f"attempts {st['attempts']}{took}{why}{err}"
        )


@workflow.command("cancel")
@click.argument("request_id")
@click.option("--reason", default="cancelled from the command line", show_default=True)
def cancel(request_id: str, reason: str) -> None:
    """Cancel a workflow request (its unfinished steps are cancelled)."""
    s = load(Settings)

    async def go() -> dict[str, Any]:
        async with _client(s) as client:
            out: dict[str, Any] = await _call(
                client, "workflow.cancel", {"request_id": request_id, "reason": reason}, 30
            )
            return out

    view = asyncio.run(go())
    click.echo(f"{view['request_id']}: {view['status']}")


@workflow.command("list")
def list_() -> None:
    """The workflows the orchestrator runs."""
    s = load(Settings)

    async def go() -> dict[str, Any]:
        async with _client(s) as client:
            out: dict[str, Any] = await _call(client, "workflow.list", {}, 30)
            return out

    data = asyncio.run(go())
    for wf in data["workflows"]:
        steps = " -> ".join(st["id"] for st in wf["steps"])
        click.echo(f"{wf['name']:<24} {steps}")
    for name, why in data.get("unavailable", {}).items():
        click.echo(f"{name:<24} unavailable: {why}")


@workflow.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True))
def validate(files: tuple[str, ...]) -> None:
    """Check workflow YAML files against the registered workers (offline)."""
    import agents

    orchestrator = agents.worker_module("orchestrator", "offline")
    catalog = orchestrator.RegistryWorkerCatalog(load(Settings).plugin_modules())
    bad = 0
    for f in files:
        try:
            for wf in orchestrator.load_file(Path(f), catalog):
                click.echo(f"{f}: {wf.name}: ok ({' -> '.join(wf.order)})")
        except orchestrator.WorkflowError as exc:
            bad += 1
            click.echo(f"{exc.source or f}:", err=True)
            for problem in exc.problems:
                click.echo(f"  {problem}", err=True)
    sys.exit(1 if bad else 0)


@click.command()
@click.option("--all", "include_gone", is_flag=True, help="Also missing and stopped instances.")
@click.option("--json", "as_json", is_flag=True)
def workers(include_gone: bool, as_json: bool) -> None:
    """List worker instances known to the orchestrator (from their heartbeats)."""
    s = load(Settings)

    async def go() -> dict[str, Any]:
        async with _client(s) as client:
            out: dict[str, Any] = await _call(
                client, "workers.list", {"include_gone": include_gone}, 30
            )
            return out

    data = asyncio.run(go())
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    rows = data["instances"]
    if not rows:
        click.echo("no live worker instances")
        return
    click.echo(
        f"{'WORKER':<16} {'INSTANCE':<28} {'STATE':<8} {'STATUS':<9} {'IN FLIGHT':>9} "
        f"{'PARTITIONS':<12} {'LAST BEAT':>10}"
    )
    for r in rows:
        parts = ",".join(str(p) for p in r["assigned_partitions"]) or "-"
        click.echo(
            f"{r['worker_type']:<16} {r['instance_id']:<28} {r['state']:<8} {r['status']:<9} "
            f"{r['in_flight']:>9} {parts:<12} {r['seconds_since_heartbeat']:>9.1f}s"
        )


def install(cli: click.Group) -> None:
    cli.add_command(workflow)
    cli.add_command(workers)

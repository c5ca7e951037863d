"""Command handlers of the orchestrator: workflow.start / get / cancel / list, workers.list."""

from __future__ import annotations

from typing import Any

from agents.orchestrator.effects import EffectRunner
from agents.orchestrator.messages import (
    CancelWorkflow,
    GetWorkflow,
    ListWorkers,
    ListWorkflows,
    StartWorkflow,
)
from agents.orchestrator.service import OrchestratorService
from enginedge_streams.handlers import CommandContext, CommandSpec


async def handle_start(
    cmd: StartWorkflow,
    *,
    orchestrator: OrchestratorService,
    effects: EffectRunner,
    ctx: CommandContext,
) -> dict[str, Any]:
    view, todo = orchestrator.start(
        cmd, command_id=ctx.command_id, user_id=ctx.user_id, tenant_id=ctx.tenant_id
    )
    await effects.run(todo)
    return view


async def handle_get(
    cmd: GetWorkflow, *, orchestrator: OrchestratorService, ctx: CommandContext
) -> dict[str, Any]:
    return orchestrator.get(
        cmd.request_id,
        user_id=ctx.user_id,
        results=cmd.include_results,
        include_input=cmd.include_input,
    )


async def handle_cancel(
    cmd: CancelWorkflow,
    *,
    orchestrator: OrchestratorService,
    effects: EffectRunner,
    ctx: CommandContext,
) -> dict[str, Any]:
    view, todo = orchestrator.cancel(cmd.request_id, cmd.reason, user_id=ctx.user_id)
    await effects.run(todo)
    return view


async def handle_list_workflows(
    cmd: ListWorkflows, *, orchestrator: OrchestratorService
) -> dict[str, Any]:
    return orchestrator.library.describe()


async def handle_list_workers(
    cmd: ListWorkers, *, orchestrator: OrchestratorService
) -> dict[str, Any]:
    rows = orchestrator.workers(include_gone=cmd.include_gone, worker_type=cmd.worker_type)
    return {
        "instances": rows,
        "live_types": sorted({r["worker_type"] for r in rows if r["state"] == "live"}),
    }


COMMANDS = [
    CommandSpec(
        "workflow.start",
        StartWorkflow,
        handle_start,
        "Start a workflow request (idempotent per idempotency key); returns its id and status.",
    ),
    CommandSpec(
        "workflow.get",
        GetWorkflow,
        handle_get,
        "A workflow request's status, steps with timings, results and output.",
        read_only=True,
    ),
    CommandSpec(
        "workflow.cancel",
        CancelWorkflow,
        handle_cancel,
        "Cancel a workflow request: its unfinished steps are cancelled.",
    ),
    CommandSpec(
        "workflow.list",
        ListWorkflows,
        handle_list_workflows,
        "The workflows this orchestrator runs.",
        read_only=True,
    ),
    CommandSpec(
        "workers.list",
        ListWorkers,
        handle_list_workers,
        "Worker instances from their heartbeats (live, missing, stopped).",
        read_only=True,
    ),
]

"""Declarations only: the orchestrator's tables, topics, agents, timers and HTTP routes.

Faust tables can only be written inside stream iteration, so every change of a
request happens in an agent:

* the command agent (``worker.serve``): workflow.start / workflow.cancel;
* ``replies``: results of step commands (workers also write them to the
  command's ``reply_to``, this topic), matched by command id;
* ``drive``: internal events keyed by request id — ticks sent by the timer
  (deadlines, due retries, a waited-for worker now live), ``resume`` for every
  unfinished request after a (re)start, ``purge`` of old finished ones;
* ``worker.status``: heartbeats into the registry table.

Timers and web views only read the tables and send messages.
"""

from __future__ import annotations

import logging
from typing import Any

import faust
import orjson
from pydantic import ValidationError as PydanticValidationError

from agents.orchestrator.catalog import RegistryWorkerCatalog
from agents.orchestrator.drive_events import EventDriveSender
from agents.orchestrator.effects import EffectRunner
from agents.orchestrator.engine import Effect, Engine, Limits
from agents.orchestrator.handlers import COMMANDS
from agents.orchestrator.http import install_routes
from agents.orchestrator.jwks_authenticator import JwksAuthenticator
from agents.orchestrator.library import WorkflowLibrary
from agents.orchestrator.ports import Authenticator, DriveSender
from agents.orchestrator.service import OrchestratorService
from agents.orchestrator.settings import OrchestratorSettings
from agents.orchestrator.static_token_authenticator import StaticTokenAuthenticator
from enginedge_streams.codec import decode_result
from enginedge_streams.container import Container
from enginedge_streams.heartbeat import Heartbeat
from enginedge_streams.runtime import WorkerRuntime
from enginedge_streams.settings import load
from enginedge_streams.topics import orchestrator_events_topic
from enginedge_streams.worker import Worker
from enginedge_streams.worker_registry import WorkerRegistry
from tables.kv import FaustKeyValueStore
from tables.orchestrator import create_instance_table, create_request_table

WORKER_TYPE = "orchestrator"
PURGE_INTERVAL_S = 600.0
log = logging.getLogger("enginedge.orchestrator")


def register(app: faust.App, container: Container) -> WorkerRuntime:
    s = load(OrchestratorSettings)
    worker = Worker(app, container, WORKER_TYPE)
    replies_topic = worker.topic("replies")
    drive_topic = worker.topic("drive")
    service = build_service(app, container, s, reply_to=replies_topic.get_topic_name())
    runner = EffectRunner(
        worker.command_sender(),
        worker.event_publisher(name=orchestrator_events_topic(container.settings.topic_prefix)),
    )
    drive_events = worker.event_publisher("drive")  # the drive topic, as JSON keyed by request
    drive = container.provide("drive_sender", lambda: EventDriveSender(drive_events))
    container.redis()  # readiness includes Redis, as for every worker
    container.manage(_Recovery(service, drive))
    _declare_timers(worker, service, drive, s.orchestrator_tick_seconds)
    runtime = worker.serve(COMMANDS, {"orchestrator": service, "effects": runner})
    _install_agents(
        app, runtime, service, runner, replies_topic=replies_topic, drive_topic=drive_topic
    )
    install_routes(runtime, service=service, auth=authenticator(container, s), settings=s)
    return runtime


def build_service(
    app: faust.App, container: Container, s: OrchestratorSettings, *, reply_to: str
) -> OrchestratorService:
    platform = container.settings
    partitions = platform.topic_partitions
    catalog = container.provide(
        "worker_catalog", lambda: RegistryWorkerCatalog(platform.plugin_modules())
    )
    library = container.provide(
        "workflow_library", lambda: WorkflowLibrary.load(catalog, s.workflows_dir)
    )
    engine = Engine(
        Limits(
            step_retries=s.step_max_retries,
            backoff_s=s.step_retry_backoff_ms / 1000,
            backoff_max_s=s.step_retry_backoff_max_ms / 1000,
            step_timeout_s=s.step_timeout_seconds,
            max_fan_out=s.workflow_max_fan_out,
            max_step_result_bytes=s.workflow_max_step_result_bytes,
            max_command_bytes=platform.max_command_bytes,
        ),
        reply_to=reply_to,
    )
    return OrchestratorService(
        library=library,
        catalog=catalog,
        engine=engine,
        requests=FaustKeyValueStore(create_request_table(app, partitions=partitions)),
        instances=FaustKeyValueStore(create_instance_table(app, partitions=partitions)),
        registry=WorkerRegistry(
            missing_after_intervals=s.worker_missing_after_intervals,
            forget_after_s=s.worker_forget_seconds,
        ),
        settings=s,
    )


def authenticator(container: Container, s: OrchestratorSettings) -> Authenticator:
    """JWTs checked against the identity worker's JWKS when configured, else API_TOKEN."""
    if s.identity_jwks_url:
        return container.manage(
            JwksAuthenticator(
                s.identity_jwks_url,
                issuer=s.jwt_issuer,
                audience=s.jwt_audience,
                cache_seconds=s.jwks_cache_seconds,
            )
        )
    return StaticTokenAuthenticator(container.settings.api_token)


def _install_agents(
    app: faust.App,
    runtime: WorkerRuntime,
    service: OrchestratorService,
    runner: EffectRunner,
    *,
    replies_topic: Any,
    drive_topic: Any,
) -> None:
    started = runtime.started

    async def carry_out(effects: list[Effect]) -> None:
        """Send what the stored record says. If the broker refuses, stop the worker: after
        the restart every unfinished request is resumed and its commands are sent again."""
        try:
            await runner.run(effects)
        except Exception as exc:
            log.critical("cannot send a workflow's commands or events; stopping", exc_info=True)
            await runtime.fatal(exc)

    @app.agent(replies_topic, name="orchestrator-replies")
    async def replies(stream: Any) -> None:
        async for event in stream.events():
            await started.wait()
            try:
                result = decode_result(event.message.value or b"")
            except (PydanticValidationError, ValueError):
                log.warning("ignoring an undecodable reply")
                continue
            try:
                effects = service.on_result(result)
            except Exception:  # a bad record must not stop the agent
                log.exception("failed to apply the result of %s", result.command_id)
                continue
            await carry_out(effects)

    @app.agent(drive_topic, name="orchestrator-drive")
    async def driver(stream: Any) -> None:
        async for event in stream.events():
            await started.wait()
            try:
                data = orjson.loads(event.message.value or b"{}")
                rid, kind = str(data["request_id"]), str(data.get("kind", "tick"))
            except (orjson.JSONDecodeError, KeyError, TypeError):
                log.warning("ignoring an undecodable drive event")
                continue
            try:
                effects = service.on_drive(rid, kind)
            except Exception:
                log.exception("failed to %s request %s", kind, rid)
                continue
            await carry_out(effects)

    @app.agent(runtime.status_topic, name="orchestrator-registry")
    async def registry(stream: Any) -> None:
        async for event in stream.events():
            await started.wait()
            try:
                beat = Heartbeat.model_validate_json(event.message.value or b"")
            except (PydanticValidationError, ValueError):
                log.warning("ignoring an undecodable heartbeat")
                continue
            try:
                service.on_heartbeat(beat)
            except Exception:
                log.exception("failed to record a heartbeat of %s", beat.instance_id)


def _declare_timers(
    worker: Worker, service: OrchestratorService, drive: DriveSender, interval: float
) -> None:
    async def tick() -> None:
        for rid in service.due():
            try:
                await drive.send(rid, "tick")
            except Exception:  # the broker may be down; the next tick tries again
                log.warning("tick for %s not sent", rid, exc_info=True)
                return

    async def purge() -> None:
        for rid in service.purge_candidates():
            await drive.send(rid, "purge")

    worker.every(interval, tick, name="tick")
    worker.every(PURGE_INTERVAL_S, purge, name="purge")


class _Recovery:
    """After table recovery: load the registry and the request index, and send every
    unfinished request a ``resume`` (its in-flight commands are sent again, same ids)."""

    def __init__(self, service: OrchestratorService, drive: DriveSender) -> None:
        self.service = service
        self.drive = drive

    async def start(self) -> None:
        unfinished = self.service.recover()
        for rid in unfinished:
            await self.drive.send(rid, "resume")
        if unfinished:
            log.info("resuming %d unfinished workflow request(s)", len(unfinished))

    async def stop(self) -> None:
        return None

"""Wiring only: the scheduling worker's table, ports, commands, events topic and reminder timer."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from typing import Any

import faust

from agents.scheduling.caldav_calendar_sync import CaldavCalendarSync
from agents.scheduling.fakes import SystemClock
from agents.scheduling.faust_event_publisher import FaustCommandSender, FaustEventPublisher
from agents.scheduling.google_calendar_sync import GoogleCalendarSync
from agents.scheduling.graph_calendar_sync import GraphCalendarSync
from agents.scheduling.handlers import COMMANDS
from agents.scheduling.ports import CalendarSyncProvider
from agents.scheduling.reminders import ReminderScheduler
from agents.scheduling.repository import SchedulingRepository
from agents.scheduling.settings import SchedulingSettings
from enginedge_streams.container import Container
from enginedge_streams.runtime import command_worker
from enginedge_streams.settings import load
from enginedge_streams.topics import WorkerTopics
from tables.scheduling import create_scheduling_table, scheduling_store

WORKER_TYPE = "scheduling"
log = logging.getLogger("enginedge.scheduling")


def _count_call(metrics: Any, api: str, error: bool) -> None:
    metrics.external_call(api, error=error)


def sync_providers(
    settings: SchedulingSettings, container: Container
) -> dict[str, CalendarSyncProvider]:
    providers: dict[str, CalendarSyncProvider] = {}
    timeout = settings.calendar_sync_timeout_seconds
    if settings.google_calendar_access_token is not None:
        providers["google"] = container.manage(
            GoogleCalendarSync(
                settings.google_calendar_api_url,
                settings.google_calendar_access_token.get_secret_value(),
                timeout=timeout,
            )
        )
    if settings.ms_graph_access_token is not None:
        providers["microsoft"] = container.manage(
            GraphCalendarSync(
                settings.ms_graph_api_url,
                settings.ms_graph_access_token.get_secret_value(),
                timeout=timeout,
            )
        )
    if settings.caldav_url:
        password = settings.caldav_password.get_secret_value() if settings.caldav_password else None
        providers["caldav"] = container.manage(
            CaldavCalendarSync(
                settings.caldav_url,
                settings.caldav_username,
                password,
                timeout=timeout,
            )
        )
    return providers


def register(app: faust.App, container: Container) -> Any:
    settings = load(SchedulingSettings)
    from enginedge_streams.logs import REDACTOR
    from enginedge_streams.settings import secret_values

    REDACTOR.add(*secret_values(settings))
    partitions = container.settings.topic_partitions
    table = create_scheduling_table(app, partitions=partitions)
    store = container.manage(container.provide("scheduling_store", lambda: scheduling_store(table)))
    repo = SchedulingRepository(store)
    clock = container.provide("clock", SystemClock)
    events_name = WorkerTopics(WORKER_TYPE, container.settings.topic_prefix).extra("events")  # noqa: S610
    events_topic = app.topic(events_name, partitions=partitions)
    providers = container.provide("sync_providers", lambda: sync_providers(settings, container))
    container.redis()  # readiness includes Redis, as for every worker
    runtime = command_worker(
        app,
        container,
        worker_type=WORKER_TYPE,
        commands=COMMANDS,
        dependencies={
            "repo": repo,
            "clock": clock,
            "events_out": FaustEventPublisher(events_topic),
            "sync_providers": providers,
        },
    )
    assert events_name == runtime.topics.extra("events")  # noqa: S610
    apis = {"google": "google_calendar", "microsoft": "microsoft_graph", "caldav": "caldav"}
    for name, provider in providers.items():
        if hasattr(provider, "on_call"):
            provider.on_call = partial(_count_call, runtime.metrics, apis.get(name, name))
    topics = getattr(app, "enginedge_topics", None)
    if topics is not None:
        topics.append(events_name)
    scheduler = ReminderScheduler(
        repo,
        FaustCommandSender(runtime.requests_topic),
        clock,
        catchup=timedelta(hours=settings.reminder_catchup_hours),
        compute=runtime.compute,  # expansion off the loop, killed at its limit
    )

    @app.timer(interval=settings.reminder_interval_seconds)  # type: ignore[untyped-decorator]  # faust is untyped
    async def reminder_timer() -> None:
        if not runtime.started.is_set() or app.rebalancing:
            return
        try:
            sent = await scheduler.tick()
        except Exception:  # a timer must keep running; the next tick retries
            log.exception("reminder tick failed")
            return
        if sent:
            log.info("sent %d reminder.fire command(s)", sent, extra={"event": "reminders"})

    runtime.reminder_scheduler = scheduler  # type: ignore[attr-defined]
    return runtime

"""Declarations only: the scheduling worker's table, ports, commands, events topic and
reminder timer."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

import faust

from agents.scheduling.caldav_calendar_sync import CaldavCalendarSync
from agents.scheduling.google_calendar_sync import GoogleCalendarSync
from agents.scheduling.graph_calendar_sync import GraphCalendarSync
from agents.scheduling.handlers import COMMANDS
from agents.scheduling.ports import CalendarSyncProvider
from agents.scheduling.reminders import ReminderScheduler
from agents.scheduling.repository import SchedulingRepository
from agents.scheduling.settings import SchedulingSettings
from enginedge_streams.compute import shared_compute_pool
from enginedge_streams.container import Container
from enginedge_streams.logs import REDACTOR
from enginedge_streams.metrics import WorkerMetrics
from enginedge_streams.runtime import WorkerRuntime
from enginedge_streams.settings import load, secret_values
from enginedge_streams.worker import Worker
from tables.kv import FaustKeyValueStore
from tables.scheduling import create_scheduling_table

WORKER_TYPE = "scheduling"
log = logging.getLogger("enginedge.scheduling")


def _counter(metrics: WorkerMetrics, api: str) -> Callable[[bool], None]:
    return lambda error: metrics.external_call(api, error=error)


def sync_providers(
    settings: SchedulingSettings, container: Container, metrics: WorkerMetrics
) -> dict[str, CalendarSyncProvider]:
    providers: dict[str, CalendarSyncProvider] = {}
    timeout = settings.calendar_sync_timeout_seconds
    if settings.google_calendar_access_token is not None:
        providers["google"] = container.manage(
            GoogleCalendarSync(
                settings.google_calendar_api_url,
                settings.google_calendar_access_token.get_secret_value(),
                timeout=timeout,
                on_call=_counter(metrics, "google_calendar"),
            )
        )
    if settings.ms_graph_access_token is not None:
        providers["microsoft"] = container.manage(
            GraphCalendarSync(
                settings.ms_graph_api_url,
                settings.ms_graph_access_token.get_secret_value(),
                timeout=timeout,
                on_call=_counter(metrics, "microsoft_graph"),
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
                on_call=_counter(metrics, "caldav"),
            )
        )
    return providers


def register(app: faust.App, container: Container) -> WorkerRuntime:
    settings = load(SchedulingSettings)
    REDACTOR.add(*secret_values(settings))
    worker = Worker(app, container, WORKER_TYPE)
    table = create_scheduling_table(app, partitions=container.settings.topic_partitions)
    store = container.manage(
        container.provide("scheduling_store", lambda: FaustKeyValueStore(table))
    )
    repo = SchedulingRepository(store)
    clock = worker.clock()
    providers = container.provide(
        "sync_providers", lambda: sync_providers(settings, container, worker.metrics)
    )
    container.redis()  # readiness includes Redis, as for every worker
    scheduler = ReminderScheduler(
        repo,
        worker.command_sender(),
        clock,
        catchup=timedelta(hours=settings.reminder_catchup_hours),
        compute=shared_compute_pool(container),  # expansion off the loop
    )

    async def send_due_reminders() -> None:
        sent = await scheduler.tick()
        if sent:
            log.info("sent %d reminder.fire command(s)", sent, extra={"event": "reminders"})

    worker.every(settings.reminder_interval_seconds, send_due_reminders, name="reminders")
    return worker.serve(
        COMMANDS,
        {
            "repo": repo,
            "clock": clock,
            "events_out": worker.event_publisher("events"),
            "sync_providers": providers,
        },
    )

"""Wiring only: the interview worker's table, STT, bus adapters, events topic and phase timer."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import faust

from agents.interview.bus_adapters import BusAnswerGrader, BusSpeechAnalyzer, BusWorkerProbe
from agents.interview.faster_whisper_transcriber import FasterWhisperTranscriber
from agents.interview.faust_adapters import FaustCommandSender, FaustEventPublisher, SystemClock
from agents.interview.handlers import COMMANDS, InterviewPolicy, KeyedLocks
from agents.interview.http import install_routes
from agents.interview.openai_whisper_transcriber import OpenAIWhisperTranscriber
from agents.interview.phase_timer import PhaseTimer
from agents.interview.renderers import (
    AutoReportRenderer,
    LatexReportRenderer,
    ReportlabReportRenderer,
)
from agents.interview.repository import InterviewRepository
from agents.interview.settings import InterviewSettings
from enginedge_streams.adapters.filesystem_artifact_store import FilesystemArtifactStore
from enginedge_streams.container import Container
from enginedge_streams.errors import ConfigError
from enginedge_streams.runtime import command_worker
from enginedge_streams.settings import load, secret_values
from enginedge_streams.topics import WorkerTopics
from tables.interview import create_interview_table, interview_store

WORKER_TYPE = "interview"
log = logging.getLogger("enginedge.interview")


def make_transcriber(s: InterviewSettings) -> Any:
    if s.stt_provider == "openai":
        if s.stt_openai_api_key is None:
            raise ConfigError("STT_OPENAI_API_KEY: required when STT_PROVIDER=openai")
        return OpenAIWhisperTranscriber(
            api_key=s.stt_openai_api_key.get_secret_value(),
            base_url=s.stt_openai_base_url,
            model=s.stt_openai_model,
            language=s.stt_language or None,
        )
    return FasterWhisperTranscriber(
        s.stt_model_path,
        compute_type=s.stt_compute_type,
        threads=s.stt_threads,
        beam_size=s.stt_beam_size,
        language=s.stt_language or None,
    )


def register(app: faust.App, container: Container) -> Any:
    s = load(InterviewSettings)
    container.redactor.add(*secret_values(s))
    partitions = container.settings.topic_partitions
    bus = container.bus(inbox=WORKER_TYPE)
    table = create_interview_table(app, partitions=partitions)
    kv = container.manage(container.provide("interview_kv", lambda: interview_store(table)))
    repo = InterviewRepository(kv)
    clock = container.provide("clock", SystemClock)
    transcriber = container.manage(container.provide("transcriber", lambda: make_transcriber(s)))
    artifacts = container.manage(
        container.provide(
            "artifacts",
            lambda: FilesystemArtifactStore(
                Path(s.interview_artifact_dir), retention_hours=s.interview_artifact_retention_hours
            ),
        )
    )
    renderer = container.provide(
        "renderer",
        lambda: AutoReportRenderer(
            LatexReportRenderer(bus),
            ReportlabReportRenderer(artifacts),
            BusWorkerProbe(bus, "latex"),
            mode=s.interview_report_renderer,
        ),
    )
    grader = container.provide(
        "grader",
        lambda: BusAnswerGrader(
            bus,
            BusWorkerProbe(bus, "llm"),
            model=s.interview_llm_model,
            timeout=s.interview_llm_timeout_seconds,
        ),
    )
    events_name = WorkerTopics(WORKER_TYPE, container.settings.topic_prefix).extra("events")  # noqa: S610
    events_topic = app.topic(events_name, partitions=partitions)
    container.redis()  # readiness includes Redis, as for every worker
    container.add_readiness("artifacts", artifacts.ready)

    async def stt_ready() -> tuple[bool, str]:
        loaded = getattr(transcriber, "loaded", lambda: True)()
        return loaded, f"{transcriber.name} {'ready' if loaded else 'loading'}"

    container.add_readiness("stt", stt_ready)
    runtime = command_worker(
        app,
        container,
        worker_type=WORKER_TYPE,
        commands=COMMANDS,
        dependencies={
            "repo": repo,
            "clock": clock,
            "events": container.provide("events", lambda: FaustEventPublisher(events_topic)),
            "locks": KeyedLocks(),
            "transcriber": transcriber,
            "speech": container.provide(
                "speech", lambda: BusSpeechAnalyzer(bus, timeout=s.interview_bus_timeout_seconds)
            ),
            "grader": grader,
            "renderer": renderer,
            "policy": InterviewPolicy(
                s.rule_weights(),
                evaluator=s.interview_evaluator,
                follow_up_min_coverage=s.interview_follow_up_min_coverage,
            ),
        },
    )
    assert events_name == runtime.topics.extra("events")  # noqa: S610
    topics = getattr(app, "enginedge_topics", None)
    if topics is not None:
        topics.append(events_name)
    install_routes(runtime, artifacts)
    timer = PhaseTimer(repo, FaustCommandSender(runtime.requests_topic), clock)

    @app.timer(interval=s.interview_timer_interval_seconds)  # type: ignore[untyped-decorator]  # faust is untyped
    async def phase_timer() -> None:
        if not runtime.started.is_set() or app.rebalancing:
            return
        try:
            sent = await timer.tick()
        except Exception:  # a timer must keep running; the next tick retries
            log.exception("phase timer tick failed")
            return
        if sent:
            log.info("sent %d interview.phase_timeout command(s)", sent)

    runtime.phase_timer = timer  # type: ignore[attr-defined]
    return runtime

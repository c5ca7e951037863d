"""Declarations only: the interview worker's table, STT, bus adapters, events and phase timer."""

from __future__ import annotations

import logging
from typing import Any

import faust

from agents.interview.bus_adapters import BusAnswerGrader, BusSpeechAnalyzer
from agents.interview.faster_whisper_transcriber import FasterWhisperTranscriber
from agents.interview.handlers import COMMANDS
from agents.interview.http import install_routes
from agents.interview.openai_whisper_transcriber import OpenAIWhisperTranscriber
from agents.interview.phase_timer import PhaseTimer
from agents.interview.policy import InterviewPolicy
from agents.interview.renderers import (
    AutoReportRenderer,
    LatexReportRenderer,
    ReportlabReportRenderer,
)
from agents.interview.repository import InterviewRepository
from agents.interview.settings import InterviewSettings
from enginedge_streams.container import Container
from enginedge_streams.errors import ConfigError
from enginedge_streams.keyed_locks import KeyedLocks
from enginedge_streams.runtime import WorkerRuntime
from enginedge_streams.settings import load, secret_values
from enginedge_streams.worker import Worker
from tables.interview import create_interview_table
from tables.kv import FaustKeyValueStore

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


def register(app: faust.App, container: Container) -> WorkerRuntime:
    s = load(InterviewSettings)
    container.redactor.add(*secret_values(s))
    worker = Worker(app, container, WORKER_TYPE)
    bus = worker.bus_caller()
    table = create_interview_table(app, partitions=container.settings.topic_partitions)
    kv = container.manage(container.provide("interview_kv", lambda: FaustKeyValueStore(table)))
    repo = InterviewRepository(kv)
    clock = worker.clock()
    transcriber = container.manage(container.provide("transcriber", lambda: make_transcriber(s)))
    artifacts = container.artifact_store()  # reportlab PDFs: the platform's (filesystem or S3)
    renderer = container.provide(
        "renderer",
        lambda: AutoReportRenderer(
            LatexReportRenderer(bus),
            ReportlabReportRenderer(artifacts),
            bus,
            mode=s.interview_report_renderer,
        ),
    )
    grader = container.provide(
        "grader",
        lambda: BusAnswerGrader(
            bus, model=s.interview_llm_model, timeout=s.interview_llm_timeout_seconds
        ),
    )
    speech = container.provide(
        "speech", lambda: BusSpeechAnalyzer(bus, timeout=s.interview_bus_timeout_seconds)
    )
    container.redis()  # readiness includes Redis, as for every worker

    async def stt_ready() -> tuple[bool, str]:
        loaded = getattr(transcriber, "loaded", lambda: True)()
        return loaded, f"{transcriber.name} {'ready' if loaded else 'loading'}"

    container.add_readiness("stt", stt_ready)
    timer = PhaseTimer(repo, worker.command_sender(), clock)

    async def phase_timeouts() -> None:
        if sent := await timer.tick():
            log.info("sent %d interview.phase_timeout command(s)", sent)

    worker.every(s.interview_timer_interval_seconds, phase_timeouts, name="phase-timer")
    runtime = worker.serve(
        COMMANDS,
        {
            "repo": repo,
            "clock": clock,
            "events": worker.event_publisher("events"),
            "locks": KeyedLocks(),
            "transcriber": transcriber,
            "speech": speech,
            "grader": grader,
            "renderer": renderer,
            "policy": InterviewPolicy(
                s.rule_weights(),
                evaluator=s.interview_evaluator,
                follow_up_min_coverage=s.interview_follow_up_min_coverage,
                max_deviation=s.interview_llm_max_deviation,
                llm_model=s.interview_llm_model,
            ),
        },
    )
    install_routes(runtime, artifacts)
    return runtime

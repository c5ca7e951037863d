"""Declarations only: the LaTeX worker's runner, renderer, the platform artifact store, commands
and routes."""

from __future__ import annotations

import faust

from agents.latex.handlers import COMMANDS, CompilePolicy
from agents.latex.http import install_routes
from agents.latex.latexmk_tex_runner import LatexmkTexRunner
from agents.latex.sandbox import Limits
from agents.latex.settings import LatexSettings
from agents.latex.ziamath_math_renderer import ZiamathMathRenderer
from enginedge_streams.container import Container
from enginedge_streams.runtime import WorkerRuntime
from enginedge_streams.settings import load
from enginedge_streams.worker import Worker

WORKER_TYPE = "latex"


def register(app: faust.App, container: Container) -> WorkerRuntime:
    settings = load(LatexSettings)
    worker = Worker(app, container, WORKER_TYPE)
    concurrency = settings.latex_max_concurrent_compiles or container.settings.max_concurrency
    tex = container.manage(
        container.provide(
            "tex",
            lambda: LatexmkTexRunner(
                limits=Limits(
                    cpu_seconds=settings.latex_cpu_seconds,
                    memory_bytes=settings.latex_memory_mb * 1024 * 1024,
                    max_file_bytes=settings.latex_max_output_bytes,
                ),
                max_workdir_bytes=settings.latex_max_workdir_bytes,
                max_concurrent=concurrency,
                sandbox=settings.latex_sandbox,
                engines=settings.engines,
                work_root=settings.latex_work_dir,
                cache_dir=settings.latex_cache_dir,
            ),
        )
    )
    # The platform's artifact store (ARTIFACT_STORE=filesystem|s3): with S3, any replica
    # serves a PDF that another one compiled; the container starts it and checks readiness.
    artifacts = container.artifact_store()
    math = container.provide("math", ZiamathMathRenderer)
    policy = CompilePolicy(
        timeout_seconds=settings.latex_timeout_seconds,
        max_input_bytes=settings.latex_max_input_bytes,
        max_output_bytes=settings.latex_max_output_bytes,
        max_pages=settings.latex_max_pages,
        log_max_chars=settings.latex_log_max_chars,
        inline_artifact_max_bytes=settings.latex_inline_artifact_max_bytes,
    )
    container.redis()  # readiness includes Redis, as for every worker
    container.add_readiness("tex", tex.ready)
    runtime = worker.serve(
        COMMANDS, {"tex": tex, "artifacts": artifacts, "math": math, "policy": policy}
    )
    install_routes(runtime, artifacts)
    return runtime

"""Declarations only: the tool worker's tools, limits and commands."""

from __future__ import annotations

import faust

from agents.agent_tool.executor import ToolExecutor, ToolLimits
from agents.agent_tool.handlers import COMMANDS
from agents.agent_tool.ports import ToolDeps
from agents.agent_tool.redis_execution_budget import RedisExecutionBudget
from agents.agent_tool.registry import build_tools
from agents.agent_tool.settings import AgentToolSettings
from enginedge_streams.container import Container
from enginedge_streams.runtime import WorkerRuntime
from enginedge_streams.safe_http import HttpSettings, SafeHttpClient, SafeHttpPolicy
from enginedge_streams.settings import load
from enginedge_streams.worker import Worker

WORKER_TYPE = "agent_tool"


def register(app: faust.App, container: Container) -> WorkerRuntime:
    settings = load(AgentToolSettings)
    worker = Worker(app, container, WORKER_TYPE)
    http_settings = load(HttpSettings)
    http = container.manage(
        container.provide(
            "http", lambda: SafeHttpClient(SafeHttpPolicy.from_settings(http_settings))
        )
    )
    deps = ToolDeps(
        http=http,
        workers=worker.bus_caller(),
        sandbox_dir=settings.tool_sandbox_dir,
        files_max_bytes=settings.tool_files_max_bytes,
        max_output_chars=settings.tool_max_output_chars,
        bus_timeout_s=settings.tool_bus_timeout_seconds,
    )
    tools = container.provide("tools", lambda: build_tools(deps))
    limits = ToolLimits(
        timeout_s=settings.tool_timeout_seconds,
        max_per_command=settings.max_tool_executions_per_command,
        rate_per_minute=settings.rate_limit_for,
        retry_attempts=settings.tool_retry_attempts,
        cache_ttl_s=settings.tool_cache_ttl_seconds,
    )
    redis = container.redis()
    budget = container.provide(
        "execution_budget",
        lambda: RedisExecutionBudget(redis, prefix=f"{container.settings.topic_prefix}toolbudget:"),
    )
    executor = ToolExecutor(
        tools,
        limits,
        rate_limiter=container.rate_limiter(),
        cache=container.cache("toolcache"),
        budget=budget,
        on_call=lambda api, error: worker.metrics.external_call(api, error=error),
    )
    return worker.serve(
        COMMANDS, {"executor": executor, "concurrency": settings.tool_batch_concurrency}
    )

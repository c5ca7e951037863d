"""Runs one tool call under every limit: schema, budget, cache, rate, timeout, retries.

Order per call: validate args against the tool's JSON Schema -> take one unit of
the originating command's budget (``MAX_TOOL_EXECUTIONS_PER_COMMAND``) -> serve
a cached result for cacheable tools -> take one unit of the tool's rate
(``RATE_LIMIT_PER_TOOL``/minute, Redis) -> run with ``TOOL_TIMEOUT_SECONDS``,
retrying transient failures with backoff.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from jsonschema import Draft202012Validator

from agents.agent_tool.ports import ExecutionBudget, Tool, ToolContext
from enginedge_streams.errors import (
    EnginEdgeError,
    LimitExceededError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    RetryableError,
    ValidationError,
)
from enginedge_streams.policy import TRANSIENT_TYPES
from enginedge_streams.ports.cache import Cache
from enginedge_streams.ports.rate_limiter import RateLimiter

log = logging.getLogger("enginedge.agent_tool")
_RETRYABLE: tuple[type[BaseException], ...] = (RetryableError, *TRANSIENT_TYPES)


class ToolTimeoutError(PermanentError):
    code = "TOOL_TIMEOUT"


@dataclass(frozen=True)
class ToolLimits:
    timeout_s: float = 30.0
    max_per_command: int = 10
    rate_per_minute: Callable[[str], int] = lambda _name: 60
    retry_attempts: int = 2
    retry_base_s: float = 0.2
    cache_ttl_s: float = 300.0


class ToolExecutor:
    def __init__(
        self,
        tools: Mapping[str, Tool],
        limits: ToolLimits,
        *,
        rate_limiter: RateLimiter,
        cache: Cache,
        budget: ExecutionBudget,
        on_call: Callable[[str, bool], None] | None = None,
    ) -> None:
        self.tools = dict(tools)
        self.limits = limits
        self.rate_limiter = rate_limiter
        self.cache = cache
        self.budget = budget
        self.validators = {}
        for name, tool in self.tools.items():
            Draft202012Validator.check_schema(tool.args_schema)
            self.validators[name] = Draft202012Validator(tool.args_schema)
        #: metrics hook: ``(api, error)`` after every tool run
        self.on_call: Callable[[str, bool], None] = on_call or (lambda _api, _error: None)

    def describe(self) -> list[dict[str, Any]]:
        return [
            {
                "name": t.name,
                "description": t.description,
                "args_schema": t.args_schema,
                "read_only": t.read_only,
                "cacheable": t.cacheable,
            }
            for t in sorted(self.tools.values(), key=lambda t: t.name)
        ]

    def validate(self, name: str, args: dict[str, Any]) -> Tool:
        tool = self.tools.get(name)
        if tool is None:
            raise NotFoundError(
                f"unknown tool {name!r}",
                code="UNKNOWN_TOOL",
                details={"known": sorted(self.tools)},
            )
        errors = sorted(self.validators[name].iter_errors(args), key=lambda e: list(e.path))
        if errors:
            problems = [
                {"path": "/".join(str(p) for p in e.path) or "(args)", "message": e.message}
                for e in errors[:20]
            ]
            summary = "; ".join(f"{p['path']}: {p['message']}" for p in problems[:3])
            raise ValidationError(
                f"invalid arguments for {name}: {summary}",
                code="INVALID_TOOL_ARGS",
                details={"errors": problems, "args_schema": tool.args_schema},
            )
        return tool

    async def execute(
        self,
        name: str,
        args: dict[str, Any],
        *,
        budget_key: str,
        execution_id: str,
        deadline_s: float,
        use_cache: bool = True,
    ) -> dict[str, Any]:
        """Run one call; ``deadline_s`` is the time left for it (the command's deadline)."""
        started = time.perf_counter()
        tool = self.validate(name, args)
        limit = self.limits.max_per_command
        allowed, position = await self.budget.take(budget_key, execution_id, limit=limit)
        if not allowed:
            raise LimitExceededError(
                f"tool execution {position} of this command is over "
                f"MAX_TOOL_EXECUTIONS_PER_COMMAND={limit}",
                details={"limit": limit, "position": position, "budget_key": budget_key},
            )
        cache_key = _cache_key(name, args) if tool.cacheable and self.limits.cache_ttl_s else None
        if cache_key and use_cache:
            hit = await self.cache.get(cache_key)
            if hit is not None:
                return _outcome(name, orjson.loads(hit), started, cached=True, attempts=0)
        rate = self.limits.rate_per_minute(name)
        decision = await self.rate_limiter.acquire(f"tool:{name}", limit=rate, window_seconds=60)
        if not decision.allowed:
            raise RateLimitedError(
                f"tool {name} is over its rate limit of {rate}/minute (RATE_LIMIT_PER_TOOL)",
                retry_after=decision.retry_after,
                details={
                    "tool": name,
                    "limit_per_minute": rate,
                    "retry_after": decision.retry_after,
                },
            )
        value, attempts = await self._run_with_retries(tool, args, execution_id, deadline_s)
        if cache_key:
            await self.cache.set(
                cache_key, orjson.dumps(value), ttl_seconds=self.limits.cache_ttl_s
            )
        return _outcome(name, value, started, cached=False, attempts=attempts)

    async def _run_with_retries(
        self, tool: Tool, args: dict[str, Any], execution_id: str, deadline_s: float
    ) -> tuple[Any, int]:
        end = time.monotonic() + deadline_s
        attempt = 0
        while True:
            attempt += 1
            remaining = end - time.monotonic()
            timeout = min(self.limits.timeout_s, remaining)
            if timeout <= 0:
                raise ToolTimeoutError(f"no time left to run {tool.name}")
            ctx = ToolContext(
                command_id=execution_id, call_id=execution_id, remaining_seconds=timeout
            )
            try:
                value = await asyncio.wait_for(tool.run(args, ctx), timeout=timeout)
                self.on_call(f"tool:{tool.name}", False)
                return _jsonable(value), attempt
            except TimeoutError:
                self.on_call(f"tool:{tool.name}", True)
                raise ToolTimeoutError(
                    f"tool {tool.name} did not finish within {timeout:.1f}s "
                    f"(TOOL_TIMEOUT_SECONDS={self.limits.timeout_s:g})",
                    details={"tool": tool.name, "timeout_s": round(timeout, 3)},
                ) from None
            except _RETRYABLE as exc:
                self.on_call(f"tool:{tool.name}", True)
                retry_after = exc.retry_after if isinstance(exc, RetryableError) else None
                delay = random.uniform(0.5, 1.0) * self.limits.retry_base_s * 2 ** (attempt - 1)  # noqa: S311
                delay = max(delay, retry_after or 0.0)
                if attempt >= self.limits.retry_attempts or delay >= end - time.monotonic():
                    if isinstance(exc, EnginEdgeError):
                        raise
                    raise RetryableError(f"{tool.name}: {type(exc).__name__}: {exc}") from None
                log.info("tool %s failed transiently (%s); retry in %.2fs", tool.name, exc, delay)
                await asyncio.sleep(delay)
            except EnginEdgeError:
                self.on_call(f"tool:{tool.name}", True)
                raise
            except Exception as exc:
                self.on_call(f"tool:{tool.name}", True)
                log.warning("tool %s raised", tool.name, exc_info=True)
                raise PermanentError(
                    f"tool {tool.name} failed: {type(exc).__name__}: {exc}", code="TOOL_ERROR"
                ) from None


def _cache_key(name: str, args: dict[str, Any]) -> str:
    canonical = orjson.dumps(args, option=orjson.OPT_SORT_KEYS)
    return f"{name}:{hashlib.sha256(canonical).hexdigest()}"


def _jsonable(value: Any) -> Any:
    try:
        return orjson.loads(orjson.dumps(value))
    except TypeError as exc:
        raise PermanentError(f"tool returned a non-JSON value: {exc}", code="TOOL_ERROR") from None


def _outcome(
    name: str, value: Any, started: float, *, cached: bool, attempts: int
) -> dict[str, Any]:
    return {
        "tool": name,
        "result": value,
        "cached": cached,
        "attempts": attempts,
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
    }

"""CPU-bound steps in child processes that can be killed: the ``ComputePool`` adapters.

Why processes: ``asyncio.timeout`` cannot interrupt synchronous Python and
``asyncio.to_thread`` work cannot be cancelled, so a parser or an expansion
that runs away would hold the event loop (no ``/ready``, no heartbeats, no
other command) or a thread for as long as it likes. A child process can be
killed at the deadline.

* :class:`ProcessComputePool` — ``pebble``'s ``ProcessPool`` (spawned
  children, so no threads or sockets of the worker are forked). Each task has a
  hard wall-time limit: the smaller of the step's ``timeout_s`` and the
  current command's remaining deadline (read from :data:`command_deadline`,
  which the processor sets around each handler call). An overrunning child is
  killed by pebble and a new one started in its place. Children import the
  worker's step modules once (``warm_modules``), cap their address space
  (``RLIMIT_AS``: their warmed-up size plus ``memory_limit_mb``) and die with
  the worker (``PR_SET_PDEATHSIG``), so a killed worker leaves no orphan.
* :class:`InlineComputePool` — runs the step on the event loop (no limit can
  be enforced). ``COMPUTE_WORKERS=0`` selects it; it is the "before" of the
  loop-lag benchmark and the basis of the unit-test fake.

Errors a step raises on purpose (``EnginEdgeError``) cross the process
boundary with their code, message and details (pickling an exception keeps
only its ``args``).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import importlib
import importlib.util
import logging
import math
import os
import resource
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from enginedge_streams.errors import (
    DeadlineExceededError,
    DependencyUnavailableError,
    EnginEdgeError,
    LimitExceededError,
    PermanentError,
    RetryableError,
)

T = TypeVar("T")
log = logging.getLogger("enginedge.compute")

#: Added to the compute children's nice value (lower CPU priority than the event loop).
CHILD_NICENESS = 10

#: The running command's deadline (aware UTC), set by the processor around the handler.
command_deadline: contextvars.ContextVar[datetime | None] = contextvars.ContextVar(
    "command_deadline", default=None
)


@contextlib.contextmanager
def deadline_scope(deadline: datetime | None) -> Iterator[None]:
    """Make ``deadline`` the limit of every compute step started inside the block."""
    token = command_deadline.set(deadline)
    try:
        yield
    finally:
        command_deadline.reset(token)


def default_workers(
    cpu_max: str = "/sys/fs/cgroup/cpu.max", cfs_dir: str = "/sys/fs/cgroup/cpu"
) -> int:
    """The cores given to this process: its CPU affinity, capped by a cgroup CPU quota.

    In a container with ``resources.limits.cpu: 2`` on a 32-core node the
    affinity still lists 32 cores; the quota (cgroup v2 ``cpu.max``, or v1
    ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``) says 2.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    quota = _cgroup_quota(cpu_max, cfs_dir)
    if quota is not None:
        cores = min(cores, math.ceil(quota))
    return max(1, cores)


def _cgroup_quota(cpu_max: str, cfs_dir: str) -> float | None:
    try:
        with open(cpu_max) as fh:
            quota, period = fh.read().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass  # no cgroup v2 quota here
    try:
        with open(f"{cfs_dir}/cpu.cfs_quota_us") as q, open(f"{cfs_dir}/cpu.cfs_period_us") as p:
            quota_us, period_us = int(q.read()), int(p.read())
        return None if quota_us <= 0 else quota_us / period_us
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class StepLimit:
    """The wall-time limit of one step, and which limit it is."""

    seconds: float | None
    deadline_bound: bool  # the command's deadline (not the step's own limit) binds

    def error(self, step: str, limit_code: str) -> PermanentError:
        if self.deadline_bound:
            return DeadlineExceededError(
                f"the command's deadline passed while {step} ran; the step was stopped",
                details={"step": step},
            )
        limit = f"{self.seconds:.3g} s " if self.seconds is not None else ""
        return LimitExceededError(
            f"{step} ran longer than its {limit}limit and was stopped",
            code=limit_code,
            details={"step": step, "limit_s": self.seconds},
        )


def step_limit(timeout_s: float | None, *, now: datetime | None = None) -> StepLimit:
    """The smaller of the step's own limit and the current command's remaining time."""
    deadline = command_deadline.get()
    if deadline is None:
        return StepLimit(timeout_s, False)
    remaining = max(0.0, (deadline - (now or datetime.now(UTC))).total_seconds())
    if timeout_s is None or remaining <= timeout_s:
        return StepLimit(remaining, True)
    return StepLimit(timeout_s, False)


def step_name(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


# -- in the child ---------------------------------------------------------------------


@dataclass(frozen=True)
class StepError:
    """An ``EnginEdgeError`` raised by a step, in a form that pickles completely."""

    cls_module: str
    cls_name: str
    message: str
    code: str
    details: dict[str, Any]
    retryable: bool


def _child_init(parent_pid: int, memory_limit_bytes: int, warm_modules: Sequence[str]) -> None:
    """Runs once in each child: die with the worker, import the steps, cap memory."""
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != parent_pid:  # the worker died before prctl took effect
            os._exit(0)
    # Below the worker's own priority: when cores are short, the event loop (results,
    # /ready, heartbeats, other commands) wins over a long step.
    with contextlib.suppress(OSError):
        os.nice(CHILD_NICENESS)
    for name in warm_modules:
        try:
            module = importlib.import_module(name)
            warm_up = getattr(module, "warm_up", None)
            if callable(warm_up):  # e.g. load a tokenizer or a model once per child
                warm_up()
        except Exception as exc:  # a failed init would make pebble respawn it forever
            sys.stderr.write(f"compute child: warm-up of {name} failed: {exc!r}\n")
    if memory_limit_bytes > 0:
        with contextlib.suppress(ValueError, OSError):  # not allowed here: no cap
            with open("/proc/self/statm") as statm:
                baseline = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
            limit = baseline + memory_limit_bytes
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_step(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """The task each child runs: the step, with its errors made transportable."""
    try:
        return fn(*args)
    except EnginEdgeError as exc:
        cls = type(exc)
        return StepError(
            cls.__module__, cls.__qualname__, exc.message, exc.code, exc.details, exc.retryable
        )
    except MemoryError:
        return StepError(
            LimitExceededError.__module__,
            LimitExceededError.__qualname__,
            f"{step_name(fn)} needed more memory than a compute step may use",
            "MEMORY_LIMIT_EXCEEDED",
            {"step": step_name(fn)},
            False,
        )


def _ping() -> int:
    return os.getpid()


def rebuild_error(raised: StepError) -> EnginEdgeError:
    try:
        cls = getattr(importlib.import_module(raised.cls_module), raised.cls_name)
        if not (isinstance(cls, type) and issubclass(cls, EnginEdgeError)):
            raise TypeError(cls)
        # Its own __init__ may take other arguments: build it as the root class does.
        exc: EnginEdgeError = cls.__new__(cls)
        EnginEdgeError.__init__(exc, raised.message, code=raised.code, details=raised.details)
        if isinstance(exc, RetryableError):
            exc.retry_after = None
    except (ImportError, AttributeError, TypeError):
        exc = PermanentError(raised.message, code=raised.code, details=raised.details)
    return exc


# -- the adapters -------------------------------------------------------------------


class StepPool:
    """What every ``ComputePool`` does before a step runs: the step's limit (its own or the
    command's remaining time, whichever is smaller), and a step whose deadline has already
    passed fails at once. Each pool only says how a step executes (``_execute``)."""

    #: (step, limit) of every step run, for tests; None: not recorded (the process pool).
    calls: list[tuple[str, float | None]] | None = None

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def run(
        self,
        fn: Callable[..., T],
        *args: Any,
        timeout_s: float | None = None,
        limit_code: str = "DEADLINE_EXCEEDED",
    ) -> T:
        limit = step_limit(timeout_s)
        name = step_name(fn)
        if self.calls is not None:
            self.calls.append((name, limit.seconds))
        if limit.seconds is not None and limit.seconds <= 0:
            raise limit.error(name, limit_code)
        return await self._execute(fn, args, limit, name, limit_code)

    async def _execute(
        self, fn: Callable[..., T], args: tuple[Any, ...], limit: StepLimit, name: str, code: str
    ) -> T:
        raise NotImplementedError


class ProcessComputePool(StepPool):
    """The ``ComputePool`` port on ``pebble.ProcessPool`` (see the module doc)."""

    def __init__(
        self,
        workers: int | None = None,
        *,
        memory_limit_mb: int = 2048,
        warm_modules: Sequence[str] = (),
        start_timeout_s: float = 120.0,
    ) -> None:
        self.workers = workers or default_workers()
        self.memory_limit_mb = memory_limit_mb
        self.warm_modules = tuple(warm_modules)
        self.start_timeout_s = start_timeout_s
        self._pool: Any = None
        self.killed = 0  # steps stopped at their limit (their child was replaced)

    async def start(self) -> None:
        import multiprocessing

        from pebble import ProcessPool

        if self._pool is not None:
            return
        self._pool = ProcessPool(
            max_workers=self.workers,
            initializer=_child_init,
            initargs=(os.getpid(), self.memory_limit_mb * 1024 * 1024, self.warm_modules),
            context=multiprocessing.get_context("spawn"),
        )
        # The first schedule starts the pool from this (the loop's) thread: children are
        # spawned by pebble's threads, the loop waits for their warm-up without blocking.
        pings = [
            asyncio.wrap_future(self._pool.schedule(_ping, timeout=self.start_timeout_s))
            for _ in range(self.workers)
        ]
        await asyncio.gather(*pings)
        log.info(
            "compute pool started: %d child process(es), warm modules %s",
            self.workers,
            ", ".join(self.warm_modules) or "none",
            extra={"event": "compute_started"},
        )

    async def stop(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        pool.close()  # running steps may finish briefly; queued ones are cancelled by stop()
        await asyncio.to_thread(pool.join, 5.0)
        pool.stop()
        await asyncio.to_thread(pool.join, 10.0)

    async def _execute(
        self, fn: Callable[..., T], args: tuple[Any, ...], limit: StepLimit, name: str, code: str
    ) -> T:
        from pebble import ProcessExpired

        if self._pool is None:
            raise DependencyUnavailableError("the compute pool is not running")
        future = self._pool.schedule(run_step, args=(fn, args), timeout=limit.seconds)
        waiter = asyncio.wrap_future(future)
        try:
            # Pebble's clock starts when a child picks the task up; time queued counts too.
            async with asyncio.timeout(limit.seconds):
                value = await waiter
        except TimeoutError:
            future.cancel()  # a running task's child is killed and replaced
            self.killed += 1
            raise limit.error(name, code) from None
        except ProcessExpired as exc:
            raise PermanentError(
                f"{name} ended its process (exit code {exc.exitcode}); the process was replaced",
                code="COMPUTE_PROCESS_DIED",
                details={"step": name, "exit_code": exc.exitcode},
            ) from None
        except asyncio.CancelledError:
            future.cancel()  # the command was cancelled: stop its step too
            raise
        except RuntimeError as exc:
            if "pool" in str(exc).lower():  # pebble: "The Pool is not running" / broken
                raise DependencyUnavailableError(f"compute pool: {exc}") from None
            raise
        if isinstance(value, StepError):
            raise rebuild_error(value)
        return value  # type: ignore[no-any-return]  # the step's own return type


class InlineComputePool(StepPool):
    """Runs steps on the calling thread: no isolation and no limit (``COMPUTE_WORKERS=0``).

    A step that already exceeded the deadline before it starts still fails the
    same way as in the process pool.
    """

    def __init__(self) -> None:
        self.calls = []  # (step, limit) for tests

    async def _execute(
        self, fn: Callable[..., T], args: tuple[Any, ...], limit: StepLimit, name: str, code: str
    ) -> T:
        return fn(*args)


def needs_compute(specs: Sequence[Any]) -> bool:
    """Whether any command handler takes the ``compute`` port (else no pool is started)."""
    return any("compute" in spec.dependency_names() for spec in specs)


def compute_pool_for(
    workers: int | None, memory_limit_mb: int, steps_module: str | None
) -> ProcessComputePool | InlineComputePool:
    """The pool a worker gets from its settings; children warm up its step module.

    A worker's steps live in its ``compute`` module (top-level functions, importable in a
    child), named by the composition root (``Container.steps_module``); that module is
    imported once per child at start.
    """
    if workers == 0:
        return InlineComputePool()
    warm = [steps_module] if steps_module and not _missing(steps_module) else []
    return ProcessComputePool(workers, memory_limit_mb=memory_limit_mb, warm_modules=warm)


def _missing(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except ModuleNotFoundError:
        return True


def shared_compute_pool(container: Any) -> Any:
    """The worker's one compute pool (the container's ``compute``; tests override it).

    The runtime starts and stops it; an agent whose adapters run steps passes it
    in its dependencies as ``compute``.
    """
    s = container.settings
    return container.provide(
        "compute",
        lambda: compute_pool_for(
            s.compute_workers, s.compute_memory_limit_mb, container.steps_module
        ),
    )

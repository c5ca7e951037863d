"""The ``TexRunner`` port on TeX Live's latexmk, run in a sandbox (see ``sandbox.py``).

One compile = a fresh private directory (removed afterwards), the job's files
written into it, ``latexmk`` run under prlimit (and bubblewrap when available)
with a wall-clock timeout, a watchdog on the directory's total size, and at
most ``max_concurrent`` compiles at once. A compile that runs over its time
or size is killed with its whole process group; the worker carries on.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import fcntl
import hashlib
import logging
import os
import re
import shutil
import tempfile
import time
from collections import Counter, deque
from pathlib import Path
from typing import IO, Literal

from agents.latex.ports import CompileJob, CompileOutcome
from agents.latex.sandbox import (
    INSIDE_WORKDIR,
    Limits,
    bwrap_argv,
    bwrap_available,
    child_env,
    prlimit_argv,
)
from agents.latex.tex_outcome import LogPages, collect_outcome, kill_group, pages_detail, usage

log = logging.getLogger("enginedge.latex")

ENGINE_FLAGS = {"pdflatex": "-pdf", "xelatex": "-pdfxe", "lualatex": "-pdflua"}
BIB_FLAGS = {"auto": "-bibtex-cond", "bibtex": "-bibtex", "none": "-bibtex-"}
RUN_RE = re.compile(r"^Run number \d+ of rule '([^']+)'")
#: Runs before the document (latexmk -usepretex): LaTeX's shipout hook stops TeX at once
#: (a primitive \input of a missing file is fatal in nonstop/scroll mode) after page N+1.
PAGE_GUARD = (
    "\\AddToHook{{shipout/after}}[enginedge]{{\\ifnum\\ReadonlyShipoutCounter>{n} "
    "\\immediate\\write17{{EnginEdge page limit reached at page "
    "\\the\\ReadonlyShipoutCounter}}"
    "\\csname @@input\\endcsname enginedge-page-limit-exceeded \\fi}}"
)
#: Documents that ship pages out by the primitive (no hook) are stopped from the log, a bit later.
PAGE_SLACK = 200
INPUT_FILE = ".enginedge-terminal-input"
OUTPUT_KEEP = 64_000
LUA_CACHE = ".texmf-var"
WARMUP_DOC = b"\\documentclass{article}\\begin{document}warm $x$\\end{document}\n"
#: Written by scripts/setup-tex.sh (or a first lualatex run as root): a change means a new cache.
SYSTEM_LUA_CACHE_STAMPS = (
    "/var/lib/texmf/luatex-cache/enginedge-setup.stamp",
    "/var/lib/texmf/luatex-cache/generic/names/luaotfload-names.luc.gz",
)

SandboxMode = Literal["bwrap", "none"]


class LatexmkTexRunner:
    def __init__(
        self,
        *,
        limits: Limits,
        max_workdir_bytes: int,
        max_concurrent: int,
        sandbox: Literal["auto", "bwrap", "none"] = "auto",
        engines: tuple[str, ...] = ("pdflatex", "xelatex", "lualatex"),
        work_root: Path | None = None,
        cache_dir: Path | None = None,
        max_files: int = 2_000,
        poll_seconds: float = 0.2,
    ) -> None:
        self.limits = limits
        self.max_workdir_bytes = max_workdir_bytes
        self.max_concurrent = max_concurrent
        self.sandbox_setting = sandbox
        self.configured = engines
        self.work_root = work_root
        self.cache_dir = cache_dir
        self.max_files = max_files
        self.poll = poll_seconds
        self.mode: SandboxMode | None = None  # decided in start()
        self.engines: tuple[str, ...] = ()
        self.problem = ""
        self.running = 0
        self.completed = 0
        self._slots = asyncio.Semaphore(max_concurrent)
        self._warmup: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        if self.mode is not None:
            return
        if self.work_root is not None:
            await asyncio.to_thread(self.work_root.mkdir, parents=True, exist_ok=True)
        if shutil.which("latexmk") is None:
            self.problem = "latexmk is not installed (scripts/install-system-deps.sh)"
            self.mode = "none"
            return
        mode: SandboxMode = "none"
        if self.sandbox_setting in ("auto", "bwrap"):
            ok, why = await self._probe_bwrap()
            if ok:
                mode = "bwrap"
            elif self.sandbox_setting == "bwrap":
                self.problem = f"LATEX_SANDBOX=bwrap but bubblewrap does not work here: {why}"
            else:
                log.warning("bubblewrap unavailable (%s): TeX runs without it; no lualatex", why)
        self.mode = mode
        installed = [e for e in self.configured if shutil.which(e)]
        # LuaTeX's Lua reads and writes any file it can see: only inside bubblewrap.
        self.engines = tuple(e for e in installed if e != "lualatex" or mode == "bwrap")
        if not self.problem and not self.engines:
            self.problem = "no TeX engine available"
        log.info("TeX runner ready: sandbox=%s engines=%s", mode, ",".join(self.engines))
        if "lualatex" in self.engines and self.cache_dir is not None:
            self._warmup = asyncio.create_task(self._warm_lua_cache_logged())

    async def stop(self) -> None:
        if self._warmup is not None:
            self._warmup.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._warmup

    async def warmed(self) -> None:
        """Wait for the lualatex font-cache warm-up started by ``start`` (if any)."""
        if self._warmup is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._warmup)

    async def ready(self) -> tuple[bool, str]:
        if self.mode is None:
            return False, "starting"
        if self.problem:
            return False, self.problem
        return True, f"sandbox={self.mode}; engines={','.join(self.engines)}"

    async def _probe_bwrap(self) -> tuple[bool, str]:
        if not bwrap_available():
            return False, "bwrap not installed"
        with tempfile.TemporaryDirectory(prefix="latex-probe-", dir=self.work_root) as tmp:
            argv = [*bwrap_argv(Path(tmp)), "kpsewhich", "article.cls"]
            try:
                proc = await asyncio.create_subprocess_exec(
                    *argv,
                    env=child_env(INSIDE_WORKDIR, f"{INSIDE_WORKDIR}/{LUA_CACHE}"),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.STDOUT,
                )
                out, _ = await asyncio.wait_for(proc.communicate(), 30)
            except (OSError, TimeoutError) as exc:
                return False, f"{type(exc).__name__}: {exc}"
            if proc.returncode != 0 or b"article.cls" not in out:
                return False, out.decode(errors="replace").strip()[-300:] or "probe failed"
        return True, "ok"

    async def _warm_lua_cache_logged(self) -> None:
        try:
            await self._warm_lua_cache()
        except Exception:  # lualatex still works without it, only slower
            log.warning("lualatex font cache warm-up failed", exc_info=True)

    async def _warm_lua_cache(self) -> None:
        """Build luaotfload's font cache once (a trusted document), kept read-only.

        Done at most once per TeX installation and cache directory: a success leaves
        ``lua/.complete``, a failure ``lua.failed`` (with the reason), both holding the
        installation's fingerprint, so no runner retries until TeX Live changes. A
        failure leaves no directory behind. Runners sharing the cache directory take a
        lock: one warms up, the others carry on without the cache.
        """
        assert self.cache_dir is not None
        cache_dir = self.cache_dir
        target = cache_dir / "lua"
        failed = cache_dir / "lua.failed"
        await asyncio.to_thread(cache_dir.mkdir, parents=True, exist_ok=True)
        stamp = await asyncio.to_thread(tex_fingerprint)
        if _stamp_of(target / ".complete") == stamp:
            return
        if _stamp_of(failed) == stamp:
            log.info("lualatex font cache warm-up skipped: it failed before (%s)", failed)
            return
        lock = await asyncio.to_thread(_try_lock, cache_dir / ".warmup.lock")
        if lock is None:
            return  # another runner is warming up this cache
        keep: dict[str, Path] = {}
        try:
            job = CompileJob("warm.tex", {"warm.tex": WARMUP_DOC}, engine="lualatex", max_passes=3)
            outcome = await self.compile(job, keep_cache_in=keep, use_cache=False, count=False)
            if outcome.outcome != "ok" or "dir" not in keep:
                why = outcome.detail or _last_lines(outcome.runner_output) or outcome.outcome
                log.warning("lualatex font cache warm-up failed: %s", why)
                await asyncio.to_thread(failed.write_text, f"{stamp}\n{why}\n")
                return

            def install() -> None:
                tmp = Path(tempfile.mkdtemp(prefix=".lua-", dir=cache_dir))
                shutil.rmtree(tmp)
                shutil.move(str(keep["dir"]), tmp)
                (tmp / ".complete").write_text(stamp + "\n")
                shutil.rmtree(target, ignore_errors=True)
                tmp.rename(target)
                failed.unlink(missing_ok=True)

            await asyncio.to_thread(install)
        finally:
            if "dir" in keep:
                await asyncio.to_thread(shutil.rmtree, keep["dir"].parent, True)
            lock.close()

    # -- one compile -----------------------------------------------------------------

    async def compile(
        self,
        job: CompileJob,
        *,
        keep_cache_in: dict[str, Path] | None = None,
        use_cache: bool = True,
        count: bool = True,
    ) -> CompileOutcome:
        """One compile; ``count=False`` for the runner's own warm-up (not in the counters)."""
        if self.mode is None:
            await self.start()
        async with self._slots:
            self.running += count
            workdir = Path(tempfile.mkdtemp(prefix="latex-", dir=self.work_root))
            try:
                await asyncio.to_thread(self._prepare, workdir, job, use_cache)
                outcome = await self._run(workdir, job)
                keep = keep_cache_in is not None and outcome.outcome == "ok"
                if keep_cache_in is not None and keep and (workdir / LUA_CACHE).is_dir():
                    holder = Path(tempfile.mkdtemp(prefix="latex-keep-", dir=self.work_root))
                    shutil.move(str(workdir / LUA_CACHE), holder / "lua")
                    keep_cache_in["dir"] = holder / "lua"
                return outcome
            finally:
                self.running -= count
                self.completed += count
                await asyncio.to_thread(shutil.rmtree, workdir, True)

    def _prepare(self, workdir: Path, job: CompileJob, use_cache: bool) -> None:
        os.chmod(workdir, 0o700)
        root = workdir.resolve()
        for rel, data in job.files.items():
            path = (workdir / rel).resolve()
            if root not in path.parents:  # validated upstream; never trust it twice
                raise ValueError(f"path escapes the working directory: {rel!r}")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        if job.terminal_input:
            (workdir / INPUT_FILE).write_text("".join(f"{line}\n" for line in job.terminal_input))
        cache = self.cache_dir / "lua" if self.cache_dir is not None else None
        if job.engine == "lualatex" and use_cache and cache and (cache / ".complete").exists():
            shutil.copytree(cache, workdir / LUA_CACHE)

    def argv(self, workdir: Path, job: CompileJob) -> list[str]:
        # Scroll mode reads \typein/\read16 answers (stdin: a file, per engine run) and
        # still never stops on errors; without answers, nonstop mode makes reads fatal.
        interaction = "scrollmode" if job.terminal_input else "nonstopmode"
        latexmk = [
            "latexmk",
            "-norc",  # never read a latexmkrc (Perl code) from anywhere
            ENGINE_FLAGS[job.engine],
            BIB_FLAGS.get(job.bibliography, "-bibtex-cond"),
            f"-interaction={interaction}",
            "-file-line-error",
            "-no-shell-escape",
            "-e",
            f"$max_repeat={int(job.max_passes)}",
        ]
        if job.max_pages:
            latexmk.append(f"-usepretex={PAGE_GUARD.format(n=int(job.max_pages))}")
        if job.terminal_input:
            for engine in ENGINE_FLAGS:
                latexmk += ["-e", f"${engine}=q/{engine} %O %P <{INPUT_FILE}/"]
        latexmk.append(job.main_filename)
        sandbox = bwrap_argv(workdir) if self.mode == "bwrap" else []
        return [*prlimit_argv(self.limits), *sandbox, *latexmk]

    async def _run(self, workdir: Path, job: CompileJob) -> CompileOutcome:
        inside = INSIDE_WORKDIR if self.mode == "bwrap" else str(workdir)
        env = child_env(inside, f"{inside}/{LUA_CACHE}")
        started = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            *self.argv(workdir, job),
            cwd=workdir,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed as a whole
        )
        output: deque[str] = deque()
        kept = [0]
        runs: Counter[str] = Counter()
        stopped: list[tuple[str, str]] = []

        async def read_output() -> None:
            # Chunks, not lines: a tool printing an endless line cannot stall the reader.
            assert proc.stdout is not None
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            partial = ""
            while chunk := await proc.stdout.read(65536):
                text = decoder.decode(chunk)
                *lines, partial = (partial + text).split("\n")
                partial = partial[-4096:]
                for line in lines:
                    match = RUN_RE.match(line)
                    if match:
                        runs[match.group(1).split()[0]] += 1
                output.append(text)
                kept[0] += len(text)
                while kept[0] > OUTPUT_KEEP and len(output) > 1:
                    kept[0] -= len(output.popleft())

        reader = asyncio.create_task(read_output())
        watcher = asyncio.create_task(self._watch(proc.pid, workdir, job, stopped))
        try:
            try:
                await asyncio.wait_for(proc.wait(), job.timeout_seconds)
            except TimeoutError:
                stopped.append(
                    ("timeout", f"killed after the {job.timeout_seconds:g}s wall-clock limit")
                )
                kill_group(proc.pid)
                await proc.wait()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(reader, 5)
        finally:
            watcher.cancel()
            reader.cancel()
            if proc.returncode is None:  # cancelled (deadline, shutdown): never leak a child
                kill_group(proc.pid)
                with contextlib.suppress(Exception):
                    await asyncio.shield(proc.wait())
        duration_ms = (time.perf_counter() - started) * 1000.0
        return await asyncio.to_thread(
            lambda: collect_outcome(
                limits=self.limits,
                workdir=workdir,
                job=job,
                returncode=proc.returncode,
                stopped=stopped,
                runs=runs,
                output="".join(output),
                duration_ms=duration_ms,
            )
        )

    async def _watch(
        self, pid: int, workdir: Path, job: CompileJob, stopped: list[tuple[str, str]]
    ) -> None:
        """Kill the compile when its directory or its page count outgrows the limits."""
        pages = LogPages(workdir / f"{job.main_filename.rsplit('.', 1)[0]}.log")
        while True:
            await asyncio.sleep(self.poll)
            if job.max_pages:
                shipped = await asyncio.to_thread(pages.update)
                if shipped > job.max_pages + PAGE_SLACK:
                    stopped.append(("page_limit", pages_detail(job.max_pages, shipped)))
                    kill_group(pid)
                    return
            total, count = await asyncio.to_thread(usage, workdir)
            if total > self.max_workdir_bytes or count > self.max_files:
                stopped.append(
                    (
                        "output_too_large",
                        f"the compile wrote {total:,} bytes in {count} files "
                        f"(limits {self.max_workdir_bytes:,} bytes, {self.max_files} files)",
                    )
                )
                kill_group(pid)
                return


def tex_fingerprint() -> str:
    """Which TeX installation this is: the engine binary and TeX Live's system caches."""
    parts = [WARMUP_DOC.decode()]
    for name in ("lualatex", "luahbtex", "latexmk"):
        found = shutil.which(name)
        if found:
            st = os.stat(found)
            parts.append(f"{os.path.realpath(found)}:{st.st_size}:{st.st_mtime_ns}")
    for path in SYSTEM_LUA_CACHE_STAMPS:
        with contextlib.suppress(OSError):
            parts.append(f"{path}:{os.stat(path).st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _stamp_of(path: Path) -> str | None:
    try:
        return path.read_text().split("\n", 1)[0].strip()
    except OSError:
        return None


def _try_lock(path: Path) -> IO[bytes] | None:
    fh = path.open("ab")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        return None
    return fh  # closing it releases the lock


def _last_lines(text: str, n: int = 3) -> str:
    return " | ".join(ln.strip() for ln in text.strip().splitlines()[-n:])

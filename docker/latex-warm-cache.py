#!/usr/bin/env python3
"""Build the LaTeX worker's lualatex font cache at image build time (docker/Dockerfile).

    setpriv --reuid=1001 --regid=1001 --clear-groups python latex-warm-cache.py DIR

luaotfload reads its font-name database only from its first *writable* cache
directory: for the worker's compiles that is each compile's own ``TEXMFVAR``
(TeX Live's system tree, filled by scripts/setup-tex.sh, is read-only there),
so the worker keeps a warmed cache in ``LATEX_CACHE_DIR`` and copies it into
every compile. The worker builds it at start when it is missing; the image
builds it here instead, with the worker's own warm-up code (same files, same
fingerprint of the TeX installation), so no container ever does.

Run as the image's user: as root luaotfload would write into the system tree
and the cache would stay empty. The trusted warm-up document runs without
bubblewrap (no namespaces inside a build); the worker's compiles stay sandboxed.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from agents.latex.latexmk_tex_runner import LatexmkTexRunner, tex_fingerprint
from agents.latex.sandbox import Limits


async def warm(cache_dir: Path) -> int:
    runner = LatexmkTexRunner(
        limits=Limits(cpu_seconds=120, memory_bytes=2 << 30, max_file_bytes=20_000_000),
        max_workdir_bytes=200_000_000,
        max_concurrent=1,
        sandbox="none",
        cache_dir=cache_dir,
    )
    await runner.start()
    # The worker's own warm-up (start() runs it only with bubblewrap, for lualatex).
    await runner._warm_lua_cache()
    await runner.stop()
    complete = cache_dir / "lua" / ".complete"
    if not complete.is_file() or complete.read_text().strip() != tex_fingerprint():
        failed = cache_dir / "lua.failed"
        why = failed.read_text() if failed.is_file() else "no cache written"
        sys.stderr.write(f"lualatex font cache warm-up failed: {why}\n")
        return 1
    files = [p for p in (cache_dir / "lua").rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    where = cache_dir / "lua"
    sys.stdout.write(f"lualatex font cache in {where}: {len(files)} files, {size:,} bytes\n")
    return 0


def main() -> int:
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__ or "")
        return 2
    if os.geteuid() == 0:
        sys.stderr.write("run as the image's user (as root luaotfload writes the system tree)\n")
        return 2
    return asyncio.run(warm(Path(sys.argv[1])))


if __name__ == "__main__":
    raise SystemExit(main())

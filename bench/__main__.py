"""`python -m bench [--quick | --full] [name ...]`: run benchmarks, print ratios as Markdown.

Each ``bench/bench_<name>.py`` defines ``async def run(ctx: BenchContext) -> list[Row]``.
Results are also written to ``bench/results/<name>.md`` (git-ignored), and a
summary of the whole run (machine, versions, every table, peak RSS of every
worker a benchmark ran) to ``bench/results/summary.md``; copy the figures into
docs/benchmarks.md when they change.

Sizes: ``--quick`` for a smoke run (a few minutes in all), no flag for what
``make bench`` runs (under 20 minutes on 2 cores), ``--full`` for the largest
data sets (the data-processing search over 100k vectors alone loads for ~15 min).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import pkgutil
import sys
import time
from pathlib import Path

from bench.common import BenchContext, Row, limit_mib, machine, markdown


def discover() -> list[str]:
    import bench

    return sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules(bench.__path__)
        if m.name.startswith("bench_")
    )


def peak_rows(peaks: list[tuple[str, str, float]]) -> list[Row]:
    """The highest VmHWM seen per worker type (and in which benchmark) vs its memory limit."""

    best: dict[str, tuple[str, float]] = {}
    for bench_name, worker_type, mib in peaks:
        if bench_name != "memory" and mib > best.get(worker_type, ("", -1.0))[1]:
            best[worker_type] = (bench_name, mib)
    rows = []
    for worker_type, (bench_name, mib) in sorted(best.items()):
        try:
            limit = limit_mib(worker_type)
        except (OSError, ValueError, IndexError):  # a test plugin worker: no manifest
            continue
        rows.append(
            Row(
                f"{worker_type}: peak RSS (VmHWM) during `{bench_name}` vs memory limit",
                mib,
                limit,
                "MiB",
                "<= 1x",
            )
        )
    return rows


async def main(names: list[str], quick: bool, full: bool) -> int:
    out_dir = Path("bench/results")
    out_dir.mkdir(parents=True, exist_ok=True)
    facts = machine()
    header = "machine: " + ", ".join(f"{k}={v}" for k, v in facts.items())
    size = "quick" if quick else "full" if full else "default"
    print(f"{header}\nsizes: {size}", flush=True)
    summary = [header, f"sizes: {size}"]
    peaks: list[tuple[str, str, float]] = []
    failures = 0
    started = time.perf_counter()
    for name in names:
        module = importlib.import_module(f"bench.bench_{name}")
        ctx = BenchContext(quick=quick, full=full)
        ctx.setup()
        t0 = time.perf_counter()
        try:
            rows = await module.run(ctx)
        except Exception as exc:  # one benchmark failing does not hide the others
            failures += 1
            print(f"\n## {name}: FAILED: {type(exc).__name__}: {exc}", flush=True)
            summary.append(f"## {name}: FAILED: {type(exc).__name__}: {exc}")
            continue
        finally:
            await ctx.close()
            peaks += [(name, worker_type, mib) for worker_type, mib in ctx.peaks]
        table = markdown(rows)
        section = f"## {name} ({time.perf_counter() - t0:.0f}s)\n\n{table}"
        print(f"\n{section}", flush=True)
        summary.append(section)
        (out_dir / f"{name}.md").write_text(f"{header}\n\n{table}\n")
    if peaks and len(names) > 1:
        section = f"## peak memory under load\n\n{markdown(peak_rows(peaks))}"
        print(f"\n{section}")
        summary.append(section)
    total = f"total: {time.perf_counter() - started:.0f}s, {failures} failed"
    print(f"\n{total}")
    summary.append(total)
    (out_dir / "summary.md").write_text("\n\n".join(summary) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument(
        "names", nargs="*", help=f"benchmarks to run (default all: {', '.join(discover())})"
    )
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    sizes.add_argument("--full", action="store_true", help="the largest sizes (slow)")
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(discover()))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(discover())}")
    sys.exit(asyncio.run(main(args.names or discover(), args.quick, args.full)))

"""`python -m bench [--quick] [name ...]`: run benchmarks, print ratios as Markdown.

Each ``bench/bench_<name>.py`` defines ``async def run(ctx: BenchContext) -> list[Row]``.
Results are also written to ``bench/results/<name>.md`` (git-ignored); copy the
figures into docs/benchmarks.md when they change.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import pkgutil
import sys
import time
from pathlib import Path

from bench.common import BenchContext, machine, markdown


def discover() -> list[str]:
    import bench

    return sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules(bench.__path__)
        if m.name.startswith("bench_")
    )


async def main(names: list[str], quick: bool) -> int:
    out_dir = Path("bench/results")
    out_dir.mkdir(parents=True, exist_ok=True)
    facts = machine()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in facts.items()))
    failures = 0
    for name in names:
        module = importlib.import_module(f"bench.bench_{name}")
        ctx = BenchContext(quick=quick)
        ctx.setup()
        t0 = time.perf_counter()
        try:
            rows = await module.run(ctx)
        except Exception as exc:  # one benchmark failing does not hide the others
            failures += 1
            print(f"\n## {name}: FAILED: {type(exc).__name__}: {exc}")
            continue
        finally:
            await ctx.close()
        table = markdown(rows)
        print(f"\n## {name} ({time.perf_counter() - t0:.0f}s)\n\n{table}")
        (out_dir / f"{name}.md").write_text(f"machine: {facts}\n\n{table}\n")
    return 1 if failures else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument(
        "names", nargs="*", help=f"benchmarks to run (default all: {', '.join(discover())})"
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.names or discover(), args.quick)))

#!/usr/bin/env python3
"""Write the latest figure of every reliability scenario into docs/reliability.md.

    .venv/bin/python scripts/reliability_report.py [bench/results/reliability.jsonl]

Reads the JSON lines the scenarios append (tests/reliability/harness.record) and
replaces the table between the `figures` markers of docs/reliability.md.
"""

from __future__ import annotations

import json
import platform
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "reliability.md"
COLUMNS = [
    ("commands", "commands"),
    ("lost", "lost"),
    ("executed_twice", "executed twice"),
    ("effects_missing", "effects missing"),
    ("effect_reached_twice", "effect reached twice"),
    ("handler_reexecutions", "re-executions"),
    ("duplicate_results", "duplicate results"),
]


def _order(scenario: str) -> tuple[int, str]:
    m = re.match(r"(\d+)", scenario)
    return (int(m.group(1)) if m else 99, scenario)


def table(lines: list[str]) -> str:
    latest: dict[str, dict[str, object]] = {}
    for line in lines:
        if line.strip():
            row = json.loads(line)
            latest[row["scenario"]] = row
    out = [
        "| scenario | scale | " + " | ".join(title for _, title in COLUMNS) + " | other |",
        "|---|---|" + "---|" * len(COLUMNS) + "---|",
    ]
    known = {key for key, _ in COLUMNS} | {"scenario", "scale", "at"}
    for scenario in sorted(latest, key=_order):
        row = latest[scenario]
        cells = [str(row.get(key, "-")) for key, _ in COLUMNS]
        other = "; ".join(
            f"{k.replace('_', ' ')} {v}" for k, v in row.items() if k not in known and v != []
        )
        out.append(f"| {scenario} | {row['scale']} | " + " | ".join(cells) + f" | {other} |")
    when = max((str(r["at"]) for r in latest.values()), default="-")
    out.append("")
    out.append(
        f"Last run {when} on {platform.machine()} Linux, Python {platform.python_version()}. "
        "`re-executions` are raw handler re-runs of commands in flight at a kill; "
        "`duplicate results` are re-published stored results (identical records)."
    )
    return "\n".join(out)


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else ROOT / "bench" / "results" / "reliability.jsonl"
    text = DOC.read_text()
    begin, end = "<!-- figures:begin -->", "<!-- figures:end -->"
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    body = table(source.read_text().splitlines())
    DOC.write_text(f"{head}{begin}\n{body}\n{end}{tail}")
    sys.stdout.write(f"updated {DOC.relative_to(ROOT)} from {source}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

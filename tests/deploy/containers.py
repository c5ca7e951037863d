"""Run the worker images with podman for the deployment tests (`make deploy-test`).

Every podman call uses the project's own settings (docker/containers/*.conf, through
CONTAINERS_CONF / CONTAINERS_STORAGE_CONF), never the machine's global configuration.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from enginedge_streams.version import __version__
from tests.deploy.support import ROOT
from tests.support import workers


def _containers_env() -> dict[str, str]:
    """The variables scripts/containers-env.sh exports (config files, storage driver)."""
    out = subprocess.run(
        ["bash", "-c", ". scripts/containers-env.sh && env -0"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    names = ("CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF", "BUILDAH_ISOLATION", "BUILDAH_FORMAT")
    pairs = (item.split("=", 1) for item in out.stdout.decode().split("\0") if "=" in item)
    return {k: v for k, v in pairs if k in names}


CONTAINERS_ENV = _containers_env()
KAFKA = os.environ.get("KAFKA_BROKERS", "127.0.0.1:9092")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
DATA_DIR = "/var/lib/enginedge/data"

#: One real command per worker (no external service needed) and what its result must hold.
COMMANDS: dict[str, tuple[str, dict[str, Any]]] = {
    "agent_tool": ("tool.execute", {"tool": "calculator", "args": {"expression": "6*7"}}),
    "data_processing": ("embedding.generate", {"texts": ["containers run the workers"]}),
    "identity": (
        "user.register",
        {"email": f"deploy-{uuid.uuid4().hex[:8]}@example.com", "password": "c0rrect-h0rse-B"},
    ),
    "interview": ("question.list", {"limit": 3}),  # the packaged question bank
    "latex": (
        "latex.compile",
        {
            "main": "\\documentclass{article}\\begin{document}Deployed $e^{i\\pi}+1=0$."
            "\\end{document}",
            "engine": "pdflatex",
        },
    ),
    # The image's offline default: the packaged GGUF model served by llama-server.
    "llm": ("assistant.complete", {"prompt": "Say OK.", "max_tokens": 8, "temperature": 0.0}),
    "news": ("news.search", {"query": "containers"}),
    "orchestrator": ("workflow.list", {}),  # the packaged built-in workflows
    "resume": ("resume.evaluate_bullet", {"bullet": "Cut build time by 40% with layer caching"}),
    "scheduling": ("calendar.create", {"name": "deploy", "timezone": "Europe/Berlin"}),
    "spacy": ("nlp.analyze", {"text": "IBM hired Ada in Berlin."}),
}


#: A format only `unstructured` (the image's `documents` extra) partitions.
DEPLOY_CSV = b"city,engineers\nLisbon,12\nBerlin,7\n"

#: A second command for some workers (after the first, same container).
MORE_COMMANDS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    # The documents extra in the image: CSV goes through unstructured, offline.
    "data_processing": [
        (
            "document.ingest",
            {
                "source": {
                    "kind": "inline",
                    "content_base64": base64.b64encode(DEPLOY_CSV).decode(),
                    "filename": "engineers.csv",
                },
                "collection": f"deploy{uuid.uuid4().hex[:8]}",
            },
        )
    ],
    # lualatex runs only inside bubblewrap, on the font cache the image built.
    "latex": [
        (
            "latex.compile",
            {
                "main": "\\documentclass{article}\\begin{document}Lua\\TeX{} \\textbf{bold} "
                "\\textit{italic} $x^2$.\\end{document}",
                "engine": "lualatex",
            },
        )
    ],
}


def check_result(worker_type: str, command_type: str, result: dict[str, Any]) -> dict[str, Any]:
    """What a COMPLETED result must also hold; returns the figures worth recording."""
    body = result.get("result") or {}
    if worker_type == "llm":
        assert body["provider"] == "local", body  # no API key in the container
        assert body["text"].strip() and body["usage"]["completion_tokens"] > 0, body
        return {"local_model": body["model"], "completion_ms": result.get("processing_ms")}
    if worker_type == "data_processing" and command_type == "document.ingest":
        assert body["format"] == "csv" and body["partitioner"] == "unstructured", body
        assert body["chunk_count"] >= 1, body
        return {"csv_ingest_ms": result.get("processing_ms")}
    if worker_type == "latex" and body.get("engine") == "lualatex":
        # One engine pass: the font cache built into the image was used, not rebuilt.
        assert body["passes"] == 1, body
        return {"lualatex_ms": body["duration_ms"]}
    return {}


#: The seccomp profile the repository ships for the sandboxed latex container (the Compose
#: override and the kustomize Component use it; scripts/gen_manifests.py derives it).
LATEX_SECCOMP = ROOT / "docker/seccomp-latex.json"


def subuid_range(user: str = "containers") -> bool:
    """Whether rootful podman can give a container its own users (`--userns=auto`, what
    podman makes of `hostUsers: false`): it takes them from this user's /etc/subuid range."""
    try:
        return any(line.split(":")[0] == user for line in Path("/etc/subuid").read_text().split())
    except OSError:
        return False


def run_options(worker_type: str, userns: bool = False) -> list[str]:
    """Extra `podman run` options of a worker's container.

    latex: the options of docker/docker-compose.latex-sandbox.yml (Docker) for podman, which
    lualatex's bubblewrap sandbox needs: (1) a /proc it may mount: the runtime masks /proc
    paths and the kernel then refuses a fresh proc mount (`Can't mount proc on
    /newroot/proc: Operation not permitted`), so they are unmasked (Docker:
    `systempaths=unconfined`); (2) `sethostname`, in the shipped seccomp profile (the
    default allows it only with CAP_SYS_ADMIN: `Can't set hostname to tex`). No
    capabilities, no privilege escalation: the sandbox is an unprivileged user namespace.
    `userns`: in a user namespace of its own too, like the kustomize Component's pod
    (`hostUsers: false`); on the host network that needs the host's /sys (read-only),
    since a user namespace without its own network namespace may not mount sysfs.
    """
    if worker_type != "latex":
        return []
    options = [
        "--cap-drop=ALL",
        "--security-opt=no-new-privileges",
        "--security-opt=unmask=/proc/*",
        f"--security-opt=seccomp={LATEX_SECCOMP}",
    ]
    if userns:
        options += ["--userns=auto", "--volume=/sys:/sys:ro"]
    return options


#: What a worker refuses to start without (the Secret / Compose provide it in a deployment).
WORKER_ENV: dict[str, dict[str, str]] = {
    "identity": {
        "IDENTITY_ENCRYPTION_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    },
    "data_processing": {
        "DATABASE_URL": os.environ.get(
            "DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/enginedge"
        )
    },
    "latex": {"LATEX_SANDBOX": "bwrap"},  # unready, not silently without lualatex
}

#: Workers a worker calls over the bus for its command (run as extra containers on its prefix).
COMPANIONS: dict[str, list[str]] = {"resume": ["spacy"]}


def image(worker_type: str) -> str:
    return f"enginedge/worker-{worker_type.replace('_', '-')}:{__version__}"


def podman(*args: str, check: bool = True, timeout: float = 120, **kw: Any) -> str:
    out = subprocess.run(
        ["podman", *args],
        env={**os.environ, **CONTAINERS_ENV},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **kw,
    )
    if check and out.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} -> {out.returncode}\n{out.stderr}")
    return out.stdout


def podman_available() -> bool:
    return shutil.which("podman") is not None


def image_exists(name: str) -> bool:
    return (
        subprocess.run(
            ["podman", "image", "exists", name],
            env={**os.environ, **CONTAINERS_ENV},
            check=False,
        ).returncode
        == 0
    )


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """The tests' GET, with a container that does not listen yet answering status 0."""
    try:
        return workers.http_get(url, timeout)
    except OSError:
        return 0, b""


def wait_ready(url: str, timeout: float, alive: Any = None) -> float:
    """Seconds until GET url/ready answers 200; AssertionError after `timeout`."""
    start = time.monotonic()
    status, body = 0, b""
    while time.monotonic() - start < timeout:
        status, body = http_get(f"{url}/ready", timeout=3)
        if status == 200:
            return time.monotonic() - start
        if alive is not None and not alive():
            raise AssertionError(f"container exited before /ready: {status} {body[:500]!r}")
        time.sleep(0.5)
    raise AssertionError(f"/ready not 200 within {timeout}s: {status} {body[:500]!r}")


def produce_with_kcat(topic: str, command_id: str, command: dict[str, Any]) -> None:
    line = json.dumps(command, separators=(",", ":"))
    subprocess.run(
        ["kcat", "-P", "-b", KAFKA, "-t", topic, "-K", "\t"],
        input=f"{command_id}\t{line}\n".encode(),
        check=True,
        timeout=30,
    )


def consume_result_with_kcat(topic: str, command_id: str, timeout: float) -> dict[str, Any]:
    """The first result for command_id on `topic`, read with kcat (a non-Python client)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(
            ["kcat", "-C", "-b", KAFKA, "-t", topic, "-o", "beginning", "-e", "-q", "-K", "\t"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        for raw in out.stdout.decode(errors="replace").splitlines():
            key, _, value = raw.partition("\t")
            if command_id not in key and command_id not in value[:400]:
                continue
            try:
                result = json.loads(value)
            except ValueError:
                continue
            if result.get("command_id") == command_id and result.get("status") in (
                "COMPLETED",
                "FAILED",
                "DEAD_LETTERED",
            ):
                return dict(result)
        time.sleep(1)
    raise AssertionError(f"no result for {command_id} on {topic} within {timeout}s")


def rss_kib(container: str) -> int:
    """Resident memory of every process in the container (from /proc inside it), KiB."""
    out = podman(
        "exec",
        container,
        "python",
        "-c",
        "import glob\n"
        "total = 0\n"
        "for p in glob.glob('/proc/[0-9]*/status'):\n"
        "    try:\n"
        "        for line in open(p):\n"
        "            if line.startswith('VmRSS:'): total += int(line.split()[1])\n"
        "    except OSError: pass\n"
        "print(total)",
    )
    return int(out.strip())


def container_logs(name: str) -> str:
    out = subprocess.run(
        ["podman", "logs", name],
        env={**os.environ, **CONTAINERS_ENV},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=60,
        check=False,
    )
    return out.stdout


def log_problems(name: str) -> str:
    """The log's warnings and errors (first 20), then its end: what a failure shows."""
    logs = container_logs(name)
    bad = [
        line[:2000]
        for line in logs.splitlines()
        if any(f'"level":"{lv}"' in line for lv in ("warning", "error", "critical"))
        or line.startswith(("Traceback", "enginedge_streams.errors"))
    ]
    return "\n".join(bad[:20]) + "\n...\n" + logs[-3000:]


@dataclass
class WorkerContainer:
    worker_type: str
    prefix: str
    port: int
    volume: str
    name: str = field(default_factory=lambda: f"ee-deploy-{uuid.uuid4().hex[:8]}")
    env: dict[str, str] = field(default_factory=dict)
    #: replaces run_options(worker_type) when set
    options: list[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def run(self) -> None:
        env = {
            "WORKER_TYPE": self.worker_type,
            "TOPIC_PREFIX": self.prefix,
            "PORT": str(self.port),
            "WEB_HOST": "127.0.0.1",
            "KAFKA_BROKERS": KAFKA,
            "REDIS_URL": REDIS_URL,
            "LOG_LEVEL": "info",
            **WORKER_ENV.get(self.worker_type, {}),
            **self.env,
        }
        args = [f"--env={k}={v}" for k, v in env.items()]
        podman(
            "run",
            "--detach",
            "--name",
            self.name,
            "--volume",
            f"{self.volume}:{DATA_DIR}",
            "--stop-timeout",
            "60",
            *(run_options(self.worker_type) if self.options is None else self.options),
            *args,
            image(self.worker_type),
        )

    def running(self) -> bool:
        out = podman("inspect", "--format", "{{.State.Running}}", self.name, check=False)
        return out.strip() == "true"

    def logs(self) -> str:
        return container_logs(self.name)

    def problems(self) -> str:
        return log_problems(self.name)

    def inspect(self) -> dict[str, Any]:
        return dict(json.loads(podman("inspect", self.name))[0])

    def remove(self) -> None:
        podman("rm", "--force", "--time", "5", self.name, check=False)

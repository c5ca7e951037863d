"""WORKER_TYPE with several types: one Faust worker process (and consumer group) per type."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from enginedge_streams.records import Status
from enginedge_streams.worker_types import default_port
from tests.support.stack import KAFKA, REDIS_URL
from tests.support.workers import ROOT, free_port, http_get

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]


def _free_offset() -> int:
    """An offset that puts the guide's ports of both types on free loopback ports."""
    import random
    import socket

    for _ in range(100):
        offset = random.randint(20000, 50000)
        try:
            for p in (default_port("spacy") + offset, default_port("ledger") + offset):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
            return offset
        except OSError:
            continue
    raise RuntimeError("no free port pair")


async def test_faust_cli_with_a_type_list_runs_one_process_per_type(stack, bus, prefix, tmp_path):
    offset = _free_offset()
    port = free_port()
    env = {
        **os.environ,
        "WORKER_TYPE": "spacy,ledger",
        "WORKER_PLUGINS": "ledger=tests.support.ledger_worker",
        "TOPIC_PREFIX": prefix,
        "KAFKA_BROKERS": KAFKA,
        "REDIS_URL": REDIS_URL,
        "PORT": str(port),
        "WEB_HOST": "127.0.0.1",
        "DATA_DIR": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "SUPERVISOR_PORT_OFFSET": str(offset),
        "LOG_LEVEL": "warning",
    }
    log = (tmp_path / "sup.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "faust", "-A", "enginedge_streams", "worker", "-l", "warn"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        ports = {t: default_port(t) + offset for t in ("spacy", "ledger")}
        deadline = time.monotonic() + 150
        ready = set()
        while time.monotonic() < deadline and len(ready) < 2:
            for t, p in ports.items():
                try:
                    status, body = http_get(f"http://127.0.0.1:{p}/ready", timeout=2)
                    if status == 200 and json.loads(body)["checks"]["kafka"]["assigned_partitions"]:
                        ready.add(t)
                except OSError:
                    pass
            await asyncio.sleep(0.5)
        assert ready == {"spacy", "ledger"}, (tmp_path / "sup.log").read_text()[-3000:]
        health = json.loads(http_get(f"http://127.0.0.1:{port}/health")[1])
        assert set(health["workers"]) == {"spacy", "ledger"}
        a = await bus.call("spacy", "system.ping", {}, timeout=60)
        b = await bus.call("ledger", "system.ping", {}, timeout=60)
        assert a.status is Status.COMPLETED and b.status is Status.COMPLETED
        assert a.result["pid"] != b.result["pid"]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)

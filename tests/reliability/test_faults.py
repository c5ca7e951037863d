"""Fault injection on one machine, every process signalled by its own PID.

Oracle for every scenario (see harness.Oracle): each command has a unique id;
afterwards a fresh consumer drains the results topic and we count lost
commands (no terminal result), effects applied twice and handler
re-executions (the ledger in Redis), and duplicated result records (allowed
under at-least-once, reported). Figures go to bench/results/reliability.jsonl
and docs/reliability.md. Sizes are scaled down unless RELIABILITY_SCALE=full.
"""

from __future__ import annotations

import asyncio
import base64
import shutil
import signal
import tempfile
import time
import uuid
from pathlib import Path

import orjson
import pytest
from aiokafka.errors import KafkaError

from enginedge_streams.records import Command
from tests.reliability.harness import (
    FAST_GROUP,
    FULL,
    Oracle,
    ledger_worker,
    pause,
    private_postgres,
    private_redis,
    record,
    resume,
    track,
)
from tests.support.stack import REDIS_URL
from tests.support.workers import WorkerProcess, http_get

pytestmark = [pytest.mark.timeout(900 if FULL else 300), pytest.mark.slow]


async def completed_count(oracle: Oracle) -> int:
    try:
        seen = await oracle.drain(timeout=5)
    except KafkaError:
        return 0
    return sum(1 for i in oracle.ids if i in seen)


async def wait_progress(oracle: Oracle, at_least: int, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = await completed_count(oracle)
        if n >= at_least:
            return n
        await asyncio.sleep(0.3)
    raise TimeoutError(f"fewer than {at_least} results after {timeout}s")


def assert_clean(figures, *, killed_in_flight: int = 0):
    """Nothing lost, nothing executed again after its terminal result, every effect applied.

    ``killed_in_flight``: commands a SIGKILL may have caught mid-run (MAX_CONCURRENCY
    per kill); only those may have reached their effect twice.
    """
    assert figures["lost"] == 0, figures
    assert figures["executed_twice"] == 0, figures
    assert figures["effects_missing"] == 0, figures
    assert figures["effect_reached_twice"] <= killed_in_flight, figures


async def test_sigkill_worker_mid_stream(broker, oracle, tmp_path):
    n = 5000 if FULL else 1500
    w = ledger_worker(
        tmp_path, oracle.prefix, broker.address, REDIS_URL, MAX_CONCURRENCY="4"
    ).start()
    await oracle.send(oracle.commands(n, sleep_ms=2))
    await wait_progress(oracle, n // 4)
    w.kill()
    w.start()
    figures = await oracle.verdict(await oracle.wait_complete(300))
    record("1 SIGKILL worker mid-stream", figures)
    assert_clean(figures, killed_in_flight=4)
    assert figures["handler_reexecutions"] <= 4  # at most the commands in flight at the kill


async def test_sigterm_worker_mid_stream_is_graceful(broker, oracle, tmp_path):
    n = 5000 if FULL else 1500
    w = ledger_worker(
        tmp_path, oracle.prefix, broker.address, REDIS_URL, MAX_CONCURRENCY="4"
    ).start()
    await oracle.send(oracle.commands(n, sleep_ms=2))
    await wait_progress(oracle, n // 4)
    w.stop(timeout=60)  # SIGTERM: Faust finishes in-flight events and commits
    w.start()
    figures = await oracle.verdict(await oracle.wait_complete(300))
    record("2 SIGTERM worker mid-stream", figures)
    assert_clean(figures)
    assert figures["handler_reexecutions"] == 0


@pytest.mark.full_only  # make reliability
async def test_sigkill_broker_and_restart_on_same_data(broker, oracle, tmp_path):
    n = 3000 if FULL else 1000
    w = ledger_worker(
        tmp_path, oracle.prefix, broker.address, REDIS_URL, MAX_CONCURRENCY="4"
    ).start()
    await oracle.send(oracle.commands(n, sleep_ms=5))
    done = await wait_progress(oracle, n // 4)
    broker.proc.signal(signal.SIGKILL)
    await asyncio.sleep(3)
    restarted = time.monotonic()
    await asyncio.to_thread(broker.start, 120)
    await wait_progress(oracle, done + 10, timeout=240)
    recovery = time.monotonic() - restarted
    figures = await oracle.verdict(await oracle.wait_complete(300))
    figures["recovery_seconds"] = round(recovery, 1)
    record("3 SIGKILL broker, restart on same data", figures)
    assert_clean(figures)
    assert w.proc.poll() is None  # the worker rode it out


@pytest.mark.full_only  # make reliability
async def test_broker_down_and_worker_started_while_down(broker, oracle, tmp_path):
    n = 2000 if FULL else 600
    down_for = 60 if FULL else 15
    w1 = ledger_worker(tmp_path, oracle.prefix, broker.address, REDIS_URL, n=1).start()
    await oracle.send(oracle.commands(n, sleep_ms=5))
    await wait_progress(oracle, n // 5)
    broker.proc.signal(signal.SIGKILL)
    w2 = ledger_worker(tmp_path, oracle.prefix, broker.address, REDIS_URL, n=2)
    w2.start(wait=False)  # starts while the broker is down: must wait for it
    await asyncio.sleep(down_for)
    assert w2.proc.poll() is None, w2.tail()
    restarted = time.monotonic()
    await asyncio.to_thread(broker.start, 120)
    figures = await oracle.verdict(await oracle.wait_complete(400))
    figures["down_seconds"] = down_for
    figures["recovery_seconds"] = round(time.monotonic() - restarted, 1)
    record(f"4 broker down {down_for}s, worker started while down", figures)
    assert_clean(figures)
    w2.wait_ready(timeout=120)
    assert w1.proc.poll() is None


@pytest.mark.full_only  # make reliability
async def test_broker_paused_longer_than_session_timeout(broker, oracle, tmp_path):
    n = 2000 if FULL else 800
    w = ledger_worker(tmp_path, oracle.prefix, broker.address, REDIS_URL).start()
    await oracle.send(oracle.commands(n, sleep_ms=5))
    await wait_progress(oracle, n // 4)
    pid = broker.proc.pid()
    pause(pid)
    await asyncio.sleep(10)  # > BROKER_SESSION_TIMEOUT=6: the group must rebalance
    resume(pid)
    figures = await oracle.verdict(await oracle.wait_complete(300))
    record("5 broker SIGSTOP 10s (> session timeout), SIGCONT", figures)
    assert_clean(figures)
    assert w.proc.poll() is None


@pytest.mark.full_only  # make reliability
async def test_second_worker_joins_then_is_killed(broker, oracle, tmp_path):
    n = 5000 if FULL else 1500
    w1 = ledger_worker(tmp_path, oracle.prefix, broker.address, REDIS_URL, n=1).start()
    await oracle.send(oracle.commands(n, sleep_ms=3))
    await wait_progress(oracle, n // 5)
    w2 = ledger_worker(tmp_path, oracle.prefix, broker.address, REDIS_URL, n=2).start(timeout=120)
    await wait_progress(oracle, n // 2, timeout=240)
    w2.kill()
    figures = await oracle.verdict(await oracle.wait_complete(300))
    record("6 second worker joins mid-stream, then SIGKILL", figures)
    assert_clean(figures, killed_in_flight=4)
    assert w1.proc.poll() is None


async def test_poison_messages_mixed_into_the_stream(broker, oracle, tmp_path):
    ledger_worker(tmp_path, oracle.prefix, broker.address, REDIS_URL).start()
    good = oracle.commands(300 if FULL else 100)
    raising = oracle.commands(20, raise_error=True)
    invalid = oracle.commands(20)
    for c in invalid:
        c.payload = {"run": ""}  # fails payload validation
    poison = [
        (None, b"\xff\xfe garbage"),
        (b"x", b"{not json"),
        (b"y", b"[]"),
        (b"z", orjson.dumps({"command_type": "Not A Type", "payload": 3})),
    ] * 5
    mixed = [*good[:50], *poison, *raising, *good[50:], *invalid]
    await oracle.send(mixed)
    seen = await oracle.wait_complete(240)
    figures = await oracle.verdict(seen)
    failed_codes = {
        r.error.code for i in [c.command_id for c in raising + invalid] for r in seen[i]
    }
    figures["failed_codes"] = sorted(failed_codes)
    figures["poison_messages"] = len(poison)
    record("7 poison messages (undecodable, wrong schema, handler raises)", figures)
    assert figures["lost"] == 0
    assert failed_codes == {"INTERNAL_ERROR", "INVALID_PAYLOAD"}
    assert all(seen[c.command_id][0].status.value == "COMPLETED" for c in good)


async def test_redis_stopped_and_restarted_mid_run(broker, oracle, tmp_path):
    redis = private_redis(tmp_path, durable=True)  # the ledger lives here: it must survive
    redis.start()
    oracle.redis_url = redis.address
    n = 1500 if FULL else 500
    w = ledger_worker(
        tmp_path,
        oracle.prefix,
        broker.address,
        redis.address,
        RETRY_MAX_ATTEMPTS="12",
        RETRY_BACKOFF_BASE_MS="200",
        RETRY_BACKOFF_MAX_MS="2000",
    ).start()
    await oracle.send(oracle.commands(n, sleep_ms=5))
    await wait_progress(oracle, n // 4)
    redis.stop()
    await asyncio.sleep(6)
    redis.start()
    try:
        seen = await oracle.wait_complete(300)
        figures = await oracle.verdict(seen)
        retries = [
            l
            for l in http_get(f"{w.url}/metrics")[1].decode().splitlines()
            if l.startswith("worker_command_retries_total")
        ]
        figures["retries"] = retries
        record("8 Redis stopped 6s and restarted mid-run", figures)
        # A write Redis applied just before it went down can lose its reply; it is then
        # sent again (redis-py's reconnect retry, or the handler's retry): calls to a
        # dependency are at-least-once. The non-idempotent counter can
        # then move twice for a command in flight at the stop (MAX_CONCURRENCY=4); the
        # effect keyed by command id (HSETNX) cannot, and nothing runs again after its
        # terminal result.
        assert_clean(figures, killed_in_flight=4)
        assert figures["completed"] == n, "retries with backoff must ride out the outage"
    finally:
        redis.stop()


DOC = (
    "# Operations handbook\n\nKafka carries every command between the workers. "
    "Each worker records the status of a command before it runs it.\n\n"
    "## Recovery\n\nA worker that restarts re-reads its changelog and carries on. " * 6
)


async def test_postgres_stopped_and_restarted_under_data_processing(broker, tmp_path):
    # Not under tmp_path: PostgreSQL runs as its own user, and every pytest session that
    # starts on the machine chmods /tmp/pytest-of-<user> back to 0700, which cut a running
    # server off from its data directory (a PANIC at the shutdown checkpoint, then at the
    # restart's recovery: "could not open file .../global/pg_control: Permission denied").
    pg_root = Path(tempfile.mkdtemp(prefix="enginedge-rel-pg-"))
    pg = private_postgres(pg_root)
    pg.start(timeout=120)
    oracle = Oracle(broker.address, REDIS_URL, prefix=f"p{uuid.uuid4().hex[:8]}.")
    oracle.worker_type = "data_processing"
    schema = f"rel_{uuid.uuid4().hex[:8]}"
    w = track(
        WorkerProcess(
            worker_type="data_processing",
            prefix=oracle.prefix,
            data_dir=tmp_path / "dp-data",
            log_path=tmp_path / "dp.log",
            env={
                **{k: v for k, v in FAST_GROUP.items() if k != "WORKER_PLUGINS"},
                "KAFKA_BROKERS": broker.address,
                "REDIS_URL": REDIS_URL,
                # The local stack runs PostgreSQL with synchronous_commit=off (speed): a
                # COMMIT returns before its WAL is flushed, so a PostgreSQL that does not
                # shut down cleanly loses acknowledged documents (2 of 80 once). A worker
                # reports COMPLETED only after COMMIT returns; durable commits are what
                # production runs (PostgreSQL's default), so the scenario checks those.
                "DATABASE_URL": f"{pg.address}?options=-c%20synchronous_commit%3Don",
                "PGVECTOR_SCHEMA": schema,
                "MAX_CONCURRENCY": "4",
                "RETRY_MAX_ATTEMPTS": "12",
                "RETRY_BACKOFF_BASE_MS": "200",
                "RETRY_BACKOFF_MAX_MS": "2000",
            },
        )
    )
    n = 300 if FULL else 80
    commands = [
        Command(
            command_type="document.ingest",
            payload={
                "source": {
                    "kind": "inline",
                    "content_base64": base64.b64encode(f"{DOC}\n\nDocument {i}.".encode()).decode(),
                    "filename": f"doc-{i}.md",
                },
                "document_id": f"doc-{i}",
                "collection": "reliability",
                "chunking": {"chunk_size": 200, "chunk_overlap": 20},
            },
        )
        for i in range(n)
    ]
    oracle.ids.extend(c.command_id for c in commands)
    try:
        w.start(timeout=180)
        await oracle.send(commands)
        await wait_progress(oracle, n // 4, timeout=240)
        stop_started = time.monotonic()
        pg.stop()
        figures_stop_s = round(time.monotonic() - stop_started, 1)
        await asyncio.sleep(6)
        pg.start(timeout=120)
        seen = await oracle.wait_complete(420)
        figures = oracle.counts(seen)
        import psycopg

        with psycopg.connect(pg.address, autocommit=True) as conn:
            docs = dict(
                conn.execute(f"SELECT document_id, chunk_count FROM {schema}.documents").fetchall()
            )
            chunks = dict(
                conn.execute(
                    f"SELECT document_id, count(*) FROM {schema}.chunks_384 GROUP BY document_id"
                ).fetchall()
            )
        figures["effects_missing"] = sum(1 for i in range(n) if f"doc-{i}" not in docs)
        figures["inconsistent_documents"] = sum(1 for d, c in docs.items() if chunks.get(d, 0) != c)
        # How PostgreSQL went down: a fast shutdown within the stop's 30 s, or killed
        # (then it recovers from its WAL at the restart and says so in its log).
        figures["pg_stop_seconds"] = figures_stop_s
        figures["pg_crash_recovery"] = "not properly shut down" in pg.proc.log_file.read_text(
            errors="replace"
        )
        figures["retries"] = [
            line
            for line in http_get(f"{w.url}/metrics")[1].decode().splitlines()
            if line.startswith("worker_command_retries_total{")
        ]
        record("8b PostgreSQL stopped 6s and restarted under data_processing", figures)
        assert figures["lost"] == 0, figures
        assert figures["completed"] == n, "retries with backoff must ride out the outage"
        assert figures["effects_missing"] == 0 and figures["inconsistent_documents"] == 0, figures
    finally:
        w.stop(timeout=20)
        pg.stop()
        shutil.rmtree(pg_root, ignore_errors=True)


async def test_wiped_rocksdb_rebuilds_to_a_consistent_table(broker, oracle, tmp_path):
    n = 2000 if FULL else 300
    w = ledger_worker(tmp_path, oracle.prefix, broker.address, REDIS_URL)
    w.start()
    await oracle.send(oracle.commands(n))
    seen = await oracle.wait_complete(240)
    w.stop()
    shutil.rmtree(w.data_dir)
    w.start()
    # Consistency check: the rebuilt table equals a recomputation from the source topic
    # (the last result recorded for each command id).
    mismatches = 0
    for cid in oracle.ids:
        status, body = http_get(f"{w.url}/commands/{cid}")
        view = orjson.loads(body)
        expected = seen[cid][-1].model_dump(mode="json")
        if status != 200 or view["status"] != expected["status"] or view["result"] != expected:
            mismatches += 1
    figures = await oracle.verdict(seen)
    figures["table_mismatches"] = mismatches
    record("9 RocksDB wiped: table rebuilt from changelog", figures)
    assert mismatches == 0 and figures["lost"] == 0

"""Bus: no-op commands through a worker vs a bare Faust agent and a raw aiokafka loop.

Targets (issue 16): throughput >= 0.8x a bare Faust agent, CPU per command
<= 2x and p99 latency <= 2x the bare Faust agent's, in the same run. The raw
loop is reported for scale (no Faust agent comes near it: docs/benchmarks.md).
A third reference, the bare agent plus the minimum the per-command guarantees
need (bench/faust_reference_durable.py), shows what those guarantees cost on
Faust's own layers before anything of ours.

All run on the same broker with the same partition count, in one run:

* throughput: N commands produced as fast as possible; time until all N
  results are read back;
* latency: a closed loop with C commands in flight; p50/p99 of send->result.

The raw reference is what a user would otherwise write by hand: one aiokafka
consumer in a group reading the requests topic, decoding each JSON command
and producing a JSON result keyed by the command id, committing periodically.
It has no status table, no idempotency, no retries and no DLQ.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
import uuid

import orjson
import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.common import BenchContext, Row, percentile
from tests.support.stack import KAFKA

PARTITIONS = 4


async def _create(topics: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(t, PARTITIONS, 1) for t in topics])
    finally:
        await admin.close()


async def raw_loop(requests: str, results: str, stop: asyncio.Event) -> None:
    consumer = AIOKafkaConsumer(
        requests,
        bootstrap_servers=KAFKA,
        group_id=f"raw-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=True,
        auto_commit_interval_ms=2800,
    )
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all", linger_ms=1)
    await consumer.start()
    await producer.start()
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=100, max_records=500)
            for messages in batch.values():
                for msg in messages:
                    command = orjson.loads(msg.value)
                    result = {
                        "command_id": command["command_id"],
                        "command_type": command["command_type"],
                        "status": "COMPLETED",
                        "result": {"pong": True},
                    }
                    await producer.send(results, key=msg.key, value=orjson.dumps(result))
    finally:
        await producer.stop()
        await consumer.stop()


def _cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


class Driver:
    """Produces commands and reads results from the results topic (from its end)."""

    def __init__(
        self, requests: str, results: str, payload: dict[str, object] | None = None
    ) -> None:
        self.payload = payload or {}
        self.requests = requests
        self.results = results
        self.sent: dict[str, float] = {}
        self.latencies: list[float] = []
        self.done: dict[str, float] = {}
        self.waiters: dict[str, asyncio.Future[None]] = {}

    async def start(self) -> None:
        self.producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all", linger_ms=1)
        await self.producer.start()
        self.consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, group_id=None)
        await self.consumer.start()
        tps = [TopicPartition(self.results, p) for p in range(PARTITIONS)]
        self.consumer.assign(tps)
        await self.consumer.seek_to_end(*tps)
        for tp in tps:
            await self.consumer.position(tp)
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.consumer:
            cid = msg.key.decode()
            now = time.perf_counter()
            if cid in self.sent and cid not in self.done:
                self.done[cid] = now
                self.latencies.append(now - self.sent[cid])
                fut = self.waiters.pop(cid, None)
                if fut is not None and not fut.done():
                    fut.set_result(None)

    def command(self) -> tuple[str, bytes]:
        cid = uuid.uuid4().hex
        body = {"command_id": cid, "command_type": "system.ping", "payload": self.payload}
        return cid, orjson.dumps(body)

    async def blast(self, n: int) -> float:
        t0 = time.perf_counter()
        futures = []
        for _ in range(n):
            cid, body = self.command()
            self.sent[cid] = time.perf_counter()
            futures.append(await self.producer.send(self.requests, key=cid.encode(), value=body))
        await asyncio.gather(*futures)
        deadline = time.perf_counter() + 300
        while len(self.done) < len(self.sent):
            if time.perf_counter() > deadline:
                raise TimeoutError(f"only {len(self.done)}/{len(self.sent)} results after 300 s")
            await asyncio.sleep(0.01)
        return time.perf_counter() - t0

    async def closed_loop(self, total: int, in_flight: int) -> list[float]:
        self.latencies.clear()
        sem = asyncio.Semaphore(in_flight)

        async def one() -> None:
            async with sem:
                cid, body = self.command()
                fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                self.waiters[cid] = fut
                self.sent[cid] = time.perf_counter()
                await self.producer.send_and_wait(self.requests, key=cid.encode(), value=body)
                await asyncio.wait_for(fut, 60)

        await asyncio.gather(*(one() for _ in range(total)))
        return list(self.latencies)

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.consumer.stop()
        await self.producer.stop()


async def measure(
    requests: str, results: str, n: int, loop_n: int, pid: int
) -> tuple[float, list[float], float]:
    """Throughput, closed-loop latencies, and CPU ms per command of process ``pid``
    during the throughput burst (user + system: CPU time does not depend on how
    busy the machine is, unlike the rates)."""
    driver = Driver(requests, results)
    await driver.start()
    try:
        await driver.blast(200)  # warm-up: connections, assignment, JIT-free caches
        driver.sent.clear()
        driver.done.clear()
        cpu0 = _cpu_seconds(pid)
        seconds = await driver.blast(n)
        cpu_ms = (_cpu_seconds(pid) - cpu0) * 1000 / n
        latencies = await driver.closed_loop(loop_n, in_flight=8)
    finally:
        await driver.stop()
    return n / seconds, latencies, cpu_ms


async def iterator_cost(kind: str, n: int = 5000) -> float:
    """CPU µs per message of Faust's stream iteration with its ack, in process (no Kafka).

    ``kind``: ``guarded`` (the platform's Cython iterator), ``stock`` (Faust's
    Cython one) or ``python`` (Faust's pure-Python iterator).
    """
    import tempfile
    from pathlib import Path

    import faust._cython.streams as cython_streams
    import faust.streams
    from faust.events import Event
    from faust.types.tuples import ConsumerMessage

    from enginedge_streams.faust_app import create_app
    from enginedge_streams.faust_patches import GuardedStreamIterator
    from enginedge_streams.settings import Settings

    kinds = {"guarded": GuardedStreamIterator, "stock": cython_streams.StreamIterator}
    saved = faust.streams._CStreamIterator
    faust.streams._CStreamIterator = kinds.get(kind)
    try:
        topic = "worker.spacy.requests"
        app = create_app(Settings(data_dir=Path(tempfile.mkdtemp())), "spacy")
        app.enginedge_source_topics = [topic]
        consumer = app.consumer
        app.topics.acks_enabled_for = lambda t: True
        app.topics._acking_topics = {topic}
        app.consumer_generation_id = 4
        app.flow_control.resume()
        stream = app.stream(app.channel(maxsize=n + 10))
        for offset in range(n):
            msg = ConsumerMessage(
                topic, 0, offset, time.time(), 0, [], b"k", b"v", None, generation_id=4
            )
            stream.channel.queue.put_nowait(Event(app, b"k", b"v", {}, msg))
        seen = 0
        t0 = time.process_time()
        async for event in stream.events():
            consumer.finished(event.message)
            seen += 1
            if seen == n:
                break
        return (time.process_time() - t0) * 1e6 / n
    finally:
        faust.streams._CStreamIterator = saved


def _python(module_args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, *module_args],
        env={**os.environ, "PYTHONPATH": os.getcwd(), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=60)


async def run(ctx: BenchContext) -> list[Row]:
    n, loop_n = ctx.size((2000, 400), (5000, 1000), (10_000, 2000))
    rows: list[Row] = []

    # Reference: the raw aiokafka loop, in its own process (so its CPU is its own).
    raw_req, raw_res = f"{ctx.prefix}raw.requests", f"{ctx.prefix}raw.results"
    await _create([raw_req, raw_res])
    raw = _python(["-m", "bench.bench_bus", raw_req, raw_res], {})
    try:
        await asyncio.sleep(5)  # join the group and get the assignment
        raw_tput, raw_lat, raw_cpu = await measure(raw_req, raw_res, n, loop_n, raw.pid)
    finally:
        _stop(raw)

    # Second reference: the same no-op as a bare Faust agent (isolates our platform's cost).
    fref_req, fref_res = f"{ctx.prefix}fref.requests", f"{ctx.prefix}fref.results"
    await _create([fref_req, fref_res])
    faust_ref = _python(
        ["-m", "faust", "-A", "bench.faust_reference", "worker", "-l", "warn"],
        {"BENCH_PREFIX": ctx.prefix, "PORT": "6099"},
    )
    try:
        await asyncio.sleep(12)  # join the group and get the assignment
        faust_tput, faust_lat, faust_cpu = await measure(
            fref_req, fref_res, n, loop_n, faust_ref.pid
        )
    finally:
        _stop(faust_ref)

    # Third reference: the bare agent plus the minimum our guarantees need (a dedupe
    # read, a durable terminal record in a RocksDB table with its changelog, the
    # result sent after the changelog record is acknowledged): what any Faust
    # agent with these guarantees pays before our platform's own costs.
    dref_req, dref_res = f"{ctx.prefix}frefd.requests", f"{ctx.prefix}frefd.results"
    await _create([dref_req, dref_res])
    durable_ref = _python(
        ["-m", "faust", "-A", "bench.faust_reference_durable", "worker", "-l", "warn"],
        {"BENCH_PREFIX": ctx.prefix, "PORT": "6097", "BENCH_DATADIR": str(ctx.tmp / "frefd")},
    )
    try:
        await asyncio.sleep(15)  # join the group, recover the (empty) table
        dref_tput, dref_lat, dref_cpu = await measure(
            dref_req, dref_res, n, loop_n, durable_ref.pid
        )
    finally:
        _stop(durable_ref)

    # Ours: a worker answering system.ping (status table, idempotency, metrics, logs).
    worker = ctx.worker("spacy", env={"MAX_CONCURRENCY": "8", "TOPIC_PARTITIONS": str(PARTITIONS)})
    ours_tput, ours_lat, ours_cpu = await measure(
        f"{ctx.prefix}worker.spacy.requests",
        f"{ctx.prefix}worker.spacy.results",
        n,
        loop_n,
        worker.pid,
    )
    rows.append(
        Row(
            "no-op throughput",
            ours_tput,
            raw_tput,
            "cmd/s",
            "(reported)",
            f"{n} commands, {PARTITIONS} partitions, MAX_CONCURRENCY=8",
        )
    )
    rows.append(
        Row(
            "no-op throughput vs bare Faust agent",
            ours_tput,
            faust_tput,
            "cmd/s",
            ">= 0.8x",
            "same no-op written as a plain Faust agent (no status table)",
        )
    )
    rows.append(
        Row(
            "CPU per no-op command (process user+system time) vs raw loop",
            ours_cpu,
            raw_cpu,
            "ms",
            "lower is better",
            "during the throughput burst; independent of the machine's load",
        )
    )
    rows.append(
        Row(
            "CPU per no-op command vs bare Faust agent",
            ours_cpu,
            faust_cpu,
            "ms",
            "<= 2x",
            f"bare Faust agent vs raw loop: {faust_cpu / raw_cpu:.1f}x the CPU per message"
            if raw_cpu
            else "",
        )
    )
    rows.append(
        Row(
            "no-op latency p50",
            percentile(ours_lat, 50) * 1000,
            percentile(raw_lat, 50) * 1000,
            "ms",
            "lower is better",
            f"closed loop, 8 in flight, {loop_n} commands",
        )
    )
    rows.append(
        Row(
            "no-op latency p99",
            percentile(ours_lat, 99) * 1000,
            percentile(raw_lat, 99) * 1000,
            "ms",
            "(reported)",
        )
    )
    rows.append(
        Row(
            "no-op latency p99 vs bare Faust agent",
            percentile(ours_lat, 99) * 1000,
            percentile(faust_lat, 99) * 1000,
            "ms",
            "<= 2x",
        )
    )
    guarantee = "bare Faust agent + dedupe read + acked RocksDB/changelog record (ours column)"
    rows.append(
        Row(
            "minimal-guarantee agent throughput vs bare Faust agent",
            dref_tput,
            faust_tput,
            "cmd/s",
            "(reported)",
            guarantee,
        )
    )
    rows.append(
        Row(
            "minimal-guarantee agent CPU per command vs bare Faust agent",
            dref_cpu,
            faust_cpu,
            "ms",
            "(reported)",
            guarantee,
        )
    )
    rows.append(
        Row(
            "minimal-guarantee agent latency p99 vs bare Faust agent",
            percentile(dref_lat, 99) * 1000,
            percentile(faust_lat, 99) * 1000,
            "ms",
            "(reported)",
            guarantee,
        )
    )
    rows.append(
        Row(
            "no-op throughput vs minimal-guarantee agent",
            ours_tput,
            dref_tput,
            "cmd/s",
            "(reported)",
            "what our platform adds on top of the guarantees' minimum",
        )
    )
    rows.append(
        Row(
            "CPU per no-op command vs minimal-guarantee agent",
            ours_cpu,
            dref_cpu,
            "ms",
            "(reported)",
        )
    )
    rows.append(
        Row(
            "no-op latency p99 vs minimal-guarantee agent",
            percentile(ours_lat, 99) * 1000,
            percentile(dref_lat, 99) * 1000,
            "ms",
            "(reported)",
        )
    )
    costs: dict[str, list[float]] = {"guarded": [], "python": []}
    for _ in range(5):
        for kind, values in costs.items():
            values.append(await iterator_cost(kind))
    rows.append(
        Row(
            "stream iteration + ack per message: guarded Cython vs pure-Python iterator",
            min(costs["guarded"]),
            min(costs["python"]),
            "µs CPU",
            "(reported)",
            "in process, no Kafka, 5,000 events, best of 5",
        )
    )
    rows.append(
        Row(
            "no-op latency p50 vs bare Faust agent",
            percentile(ours_lat, 50) * 1000,
            percentile(faust_lat, 50) * 1000,
            "ms",
            "lower is better",
        )
    )
    return rows


async def drain(which: str, n: int, concurrency: int = 8) -> tuple[float, float]:
    """Backlog drain: ``n`` commands are in the topic before the process under test
    starts; rate and CPU ms per command from the 200th result to the last.

    The driver only reads results while it runs (no producing competes with the
    process), and every fetch finds a full backlog: what is left is the cost of
    the process's own per-command work. ``which``: ``ours`` (a spacy worker) or
    ``faust`` (the bare agent) or ``durable`` (the minimal-guarantee agent).
    ``python -m bench.bench_bus drain ours 3000 8``.
    """
    import tempfile
    from pathlib import Path

    from tests.support.workers import WorkerProcess

    prefix = f"d{uuid.uuid4().hex[:8]}."
    base = {"ours": "worker.spacy", "faust": "fref", "durable": "frefd"}[which]
    requests, results = f"{prefix}{base}.requests", f"{prefix}{base}.results"
    await _create([requests, results])
    driver = Driver(requests, results)
    await driver.start()
    sent = []
    for _ in range(n):
        cid, body = driver.command()
        driver.sent[cid] = time.perf_counter()
        sent.append(await driver.producer.send(requests, key=cid.encode(), value=body))
    await asyncio.gather(*sent)
    env = {"MAX_CONCURRENCY": str(concurrency), "TOPIC_PARTITIONS": str(PARTITIONS)}
    if which == "ours":
        tmp = Path(tempfile.mkdtemp(prefix="bench-drain-"))
        worker = WorkerProcess(
            "spacy", prefix, tmp / "data", tmp / "w.log", env={"LOG_LEVEL": "warning", **env}
        )
        worker.start(wait=False)
        pid, stop = worker.pid, worker.stop
    else:
        module = "bench.faust_reference" + ("_durable" if which == "durable" else "")
        proc = _python(
            ["-m", "faust", "-A", module, "worker", "-l", "warn"],
            {"BENCH_PREFIX": prefix, "PORT": "6098", **env},
        )
        pid, stop = proc.pid, lambda: _stop(proc)
    try:
        while len(driver.done) < 200:
            await asyncio.sleep(0.002)
        cpu0, t0, k0 = _cpu_seconds(pid), time.perf_counter(), len(driver.done)
        deadline = t0 + 600
        while len(driver.done) < n:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"only {len(driver.done)}/{n} results after 600 s")
            await asyncio.sleep(0.002)
        cpu1, t1 = _cpu_seconds(pid), time.perf_counter()
    finally:
        await driver.stop()
        stop()
    k = n - k0
    return k / (t1 - t0), (cpu1 - cpu0) * 1000 / k


if __name__ == "__main__":
    if sys.argv[1] == "drain":  # drain ours|faust|durable N [MAX_CONCURRENCY]
        rate, cpu = asyncio.run(
            drain(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 8)
        )
        print(
            f"{sys.argv[2]}: {rate:.0f} cmd/s, {cpu:.3f} ms CPU per command, "
            f"load average {os.getloadavg()[0]:.1f}"
        )
    else:  # the raw reference loop in its own process: REQUESTS RESULTS
        asyncio.run(raw_loop(sys.argv[1], sys.argv[2], asyncio.Event()))

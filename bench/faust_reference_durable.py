"""Reference for the bus benchmark: a bare Faust agent plus the minimum the guarantees need.

The same no-op as ``bench.faust_reference`` (raw bytes, orjson, ``Topic.send``),
plus what our worker's per-command guarantees cost at the least on Faust's API:

* dedupe: one read of the command id in a RocksDB-backed Faust table (a stored
  result is re-sent instead of running the command again);
* a durable terminal record: one table write per command (RocksDB + its
  changelog topic), the record being the result itself;
* the result is sent only after that changelog record is acknowledged
  (``acks=-1``): a crash after the client saw the result cannot lose the record.

Nothing else: no pydantic, no metrics, no logs, no RUNNING records, no retries.
Run with ``BENCH_PREFIX=... faust -A bench.faust_reference_durable worker``.
"""

from __future__ import annotations

import logging
import os
import tempfile
from typing import Any

import faust
import orjson

PREFIX = os.environ.get("BENCH_PREFIX", "")
for name in ("aiokafka", "faust", "mode"):  # as in bench.faust_reference
    logging.getLogger(name).setLevel(logging.WARNING)


class AckedTable(faust.Table):  # type: ignore[type-arg]  # faust is untyped
    """A table whose last changelog write (a future resolved on the broker's ack) is kept."""

    last_write: Any = None

    def send_changelog(self, *args: Any, **kwargs: Any) -> Any:
        self.last_write = super().send_changelog(*args, **kwargs)
        return self.last_write


app = faust.App(
    f"{PREFIX}faust-reference-durable",
    broker=f"kafka://{os.environ.get('KAFKA_BROKERS', '127.0.0.1:9092')}",
    store="rocksdb://",
    datadir=os.environ.get("BENCH_DATADIR") or tempfile.mkdtemp(prefix="fref-durable-"),
    key_serializer="raw",
    value_serializer="raw",
    web_port=int(os.environ.get("PORT", "6067")),
    web_host="127.0.0.1",
    producer_acks=-1,
    producer_linger=float(os.environ.get("LINGER", "0.005")),
    topic_partitions=4,
    table_standby_replicas=0,
    Table=AckedTable,
)
requests = app.topic(f"{PREFIX}frefd.requests")
results = app.topic(f"{PREFIX}frefd.results")
records: Any = app.Table("records", default=None, partitions=4, key_type=bytes, value_type=bytes)


@app.agent(requests, concurrency=int(os.environ.get("MAX_CONCURRENCY", "8")))
async def reply(stream: Any) -> None:
    store: Any = records.data  # the RocksDB store: the event's partition, no mapping layers
    async for event in stream.events():
        stored = store._get(event.key)
        if stored is not None:  # a duplicate: its stored result again, not a re-run
            await results.send(key=event.key, value=bytes(stored))
            continue
        command = orjson.loads(event.value)
        value = orjson.dumps(
            {"command_id": command["command_id"], "status": "COMPLETED", "result": {"pong": True}}
        )
        records[event.key] = value  # RocksDB write + changelog record (synchronous)
        await records.last_write  # acknowledged by the broker (acks=-1) ...
        await results.send(key=event.key, value=value)  # ... before the result goes out

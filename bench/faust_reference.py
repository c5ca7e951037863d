"""Reference for the bus benchmark: the no-op loop a Faust user would write by hand.

One agent, raw bytes in and out, no status table, no validation, no retries.
Run with ``BENCH_PREFIX=... faust -A bench.faust_reference worker``.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import faust
import orjson

PREFIX = os.environ.get("BENCH_PREFIX", "")
# `faust worker -l warn` leaves aiokafka's and Faust's per-message debug() calls
# formatting records (7 % of the loop in a profile); a user would not pay that.
for name in ("aiokafka", "faust", "mode"):
    logging.getLogger(name).setLevel(logging.WARNING)
app = faust.App(
    f"{PREFIX}faust-reference",
    broker=f"kafka://{os.environ.get('KAFKA_BROKERS', '127.0.0.1:9092')}",
    key_serializer="raw",
    value_serializer="raw",
    web_port=int(os.environ.get("PORT", "6066")),
    web_host="127.0.0.1",
    producer_acks=-1,
    producer_linger=float(os.environ.get("LINGER", "0.005")),
    topic_partitions=4,
)
requests = app.topic(f"{PREFIX}fref.requests")
results = app.topic(f"{PREFIX}fref.results")


@app.agent(requests, concurrency=int(os.environ.get("MAX_CONCURRENCY", "8")))
async def reply(stream: Any) -> None:
    async for event in stream.events():
        command = orjson.loads(event.value)
        await results.send(
            key=event.key,
            value=orjson.dumps(
                {
                    "command_id": command["command_id"],
                    "status": "COMPLETED",
                    "result": {"pong": True},
                }
            ),
        )

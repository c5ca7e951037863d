"""The orchestrator's tables: workflow requests (by request id) and worker instances.

Both are RocksDB-backed and changelogged, seen by the orchestrator through the
``KeyValueStore`` port (``tables.kv.FaustKeyValueStore``). A key lives in the partition Kafka's
default partitioner gives it (``murmur2(key) % partitions``, as for a message
keyed by it): the orchestrator's drive topic is keyed by request id, so the
drive event of a request and its table row are in the same partition, and
Faust's router finds the owner of a request (``GET /orchestrate/{id}``) the
same way. Reads go to exactly one partition whatever event is being
processed; writes happen only inside stream iteration (the orchestrator's
agents), never from timers or web views.
"""

from __future__ import annotations

from typing import Any

import faust
from aiokafka.partitioner import murmur2

from tables.kv import create_kv_table

REQUESTS_TABLE = "orchestrator-requests"
INSTANCES_TABLE = "orchestrator-workers"


def kafka_partition(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner picks for ``key``."""
    return int((murmur2(key) & 0x7FFFFFFF) % partitions)


def _create(app: faust.App, name: str, partitions: int, help_text: str) -> Any:
    return create_kv_table(
        app, name, partitions=partitions, help_text=help_text, partitioner=kafka_partition
    )


def create_request_table(app: faust.App, *, partitions: int) -> Any:
    return _create(
        app, REQUESTS_TABLE, partitions, "Workflow requests: status, steps, results, by request id."
    )


def create_instance_table(app: faust.App, *, partitions: int) -> Any:
    return _create(
        app, INSTANCES_TABLE, partitions, "Worker instances seen on worker.status, by instance id."
    )

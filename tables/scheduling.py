"""The scheduling worker's state table (calendars, events, habits, goals, plans, reminders).

One RocksDB-backed, key-partitioned table (see ``tables/kv.py``); the key
layout is documented in ``agents/scheduling/repository.py``.
"""

from __future__ import annotations

from typing import Any

import faust

from tables.kv import create_kv_table

TABLE_NAME = "scheduling-state"


def create_scheduling_table(app: faust.App, *, partitions: int) -> Any:
    return create_kv_table(
        app,
        TABLE_NAME,
        partitions=partitions,
        help_text="Scheduling state: calendars, events, habits, goals, plans, fired reminders.",
    )

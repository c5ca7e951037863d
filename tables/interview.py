"""The interview worker's table: added questions and templates, sessions with their
transcripts, and the running phase clocks, in RocksDB (changelog-backed, so sessions survive
restarts and a wiped data directory). Key-partitioned (``tables/kv.py``); the key layout is
in ``agents/interview/repository.py``."""

from __future__ import annotations

from typing import Any

import faust

from tables.kv import create_kv_table

TABLE_NAME = "interview-state"


def create_interview_table(app: faust.App, *, partitions: int) -> Any:
    return create_kv_table(
        app,
        TABLE_NAME,
        partitions=partitions,
        help_text="Interview state: questions, templates, sessions, phase clocks.",
    )

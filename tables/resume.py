"""The resume worker's table: parsed resumes and postings, versioned, in RocksDB.

Key-partitioned (``tables/kv.py``) so every version of one resume lives in one
place whatever command wrote it; the key layout is in
``agents/resume/kv_document_store.py``.
"""

from __future__ import annotations

from typing import Any

import faust

from tables.kv import create_kv_table

TABLE_NAME = "resume-documents"


def create_resume_table(app: faust.App, *, partitions: int) -> Any:
    return create_kv_table(
        app,
        TABLE_NAME,
        partitions=partitions,
        help_text="Parsed resumes and job postings by id, with versions.",
    )

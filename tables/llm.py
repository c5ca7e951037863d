"""The assistant worker's memory table: conversations and per-user usage, in RocksDB.

Commands are keyed by ``command_id``, but a conversation is shared by many
commands, so the table is the platform's key-partitioned one
(``tables.kv.create_kv_table``: every key in ``crc32(key) % partitions``, the
``memory://`` store in wiring tests). Complete state lives on a replica that
owns every partition: run one assistant replica per conversation store (see
docs/workers/llm.md). Keys: ``c:<conversation id>`` and ``u:<user id>``; the
handlers see it through ``agents.llm.kv_conversation_store`` over
``tables.kv.FaustKeyValueStore``.
"""

from __future__ import annotations

from typing import Any

import faust

from tables.kv import create_kv_table

TABLE_NAME = "llm-memory"


def create_llm_table(app: faust.App, *, partitions: int) -> Any:
    return create_kv_table(
        app,
        TABLE_NAME,
        partitions=partitions,
        help_text="Assistant conversations (c:<id>) and per-user usage (u:<id>).",
    )

"""The assistant worker's memory table: conversations and per-user usage, in RocksDB.

Commands are keyed by ``command_id``, but a conversation is shared by many
commands, so Faust's stock placement (a key lives in the partition of the
event that wrote it) would scatter one conversation over partitions. This
table places every key in ``crc32(key) % partitions`` instead: the local
RocksDB partition and the changelog partition always agree, reads go to one
place, and a restart (or a wiped data directory) rebuilds it from the
changelog. Complete state therefore lives on a replica that owns every
partition: run one assistant replica per conversation store (see
docs/workers/llm.md). Keys: ``c:<conversation id>`` and ``u:<user id>``.
(The same technique as the scheduling/identity key-value table.)
"""

from __future__ import annotations

import zlib
from typing import Any

import faust
from faust.tables import table as _table

from agents.llm.memory import Conversation, UserUsage
from enginedge_streams.faust_patches import new_key_placed_store, store_url

TABLE_NAME = "llm-memory"
_Table: Any = _table.Table  # faust's class, untyped here on purpose


def key_partition(key: bytes, partitions: int) -> int:
    return zlib.crc32(key) % partitions


class _KeyPlacedTable(_Table):  # type: ignore[misc]  # faust's base is untyped
    def partition_for_key(self, key: Any) -> int:
        raw = key if isinstance(key, bytes) else str(key).encode()
        return key_partition(raw, int(self.partitions))

    def _new_store(self) -> Any:
        if not store_url(self).startswith("rocksdb"):
            return super()._new_store()  # e.g. memory:// in wiring tests
        return new_key_placed_store(self)


def create_llm_table(app: faust.App, *, partitions: int) -> Any:
    table = _KeyPlacedTable(
        app,
        name=TABLE_NAME,
        default=None,
        partitions=partitions,
        key_type=bytes,
        value_type=bytes,
        help="Assistant conversations (c:<id>) and per-user usage (u:<id>).",
    )
    return app.tables.add(table)


class FaustConversationStore:
    """The ``ConversationStore`` port over the memory table (values are JSON bytes)."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def _get(self, key: str) -> bytes | None:
        raw = self.table.get(key.encode())
        return None if raw is None else bytes(raw)

    def get(self, conversation_id: str) -> Conversation | None:
        raw = self._get(f"c:{conversation_id}")
        return None if raw is None else Conversation.model_validate_json(raw)

    def put(self, conversation: Conversation) -> None:
        key = f"c:{conversation.conversation_id}".encode()
        self.table[key] = conversation.model_dump_json().encode()

    def delete(self, conversation_id: str) -> bool:
        key = f"c:{conversation_id}".encode()
        if self.table.get(key) is None:
            return False
        del self.table[key]
        return True

    def get_usage(self, user_id: str) -> UserUsage | None:
        raw = self._get(f"u:{user_id}")
        return None if raw is None else UserUsage.model_validate_json(raw)

    def put_usage(self, usage: UserUsage) -> None:
        self.table[f"u:{usage.user_id}".encode()] = usage.model_dump_json().encode()

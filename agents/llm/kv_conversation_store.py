"""The ``ConversationStore`` port over the platform's ``KeyValueStore`` (values are JSON).

Keys: ``c:<conversation id>`` and ``u:<user id>``. In production the key-value
store is ``tables.kv.FaustKeyValueStore`` over the ``llm-memory`` table
(``tables/llm.py``); in unit tests the platform's ``InMemoryKeyValueStore``.
"""

from __future__ import annotations

from agents.llm.memory import Conversation, UserUsage
from enginedge_streams.ports.key_value_store import KeyValueStore


class KeyValueConversationStore:
    def __init__(self, kv: KeyValueStore) -> None:
        self.kv = kv

    def get(self, conversation_id: str) -> Conversation | None:
        raw = self.kv.get(f"c:{conversation_id}")
        return None if raw is None else Conversation.model_validate_json(raw)

    def put(self, conversation: Conversation) -> None:
        self.kv.put(f"c:{conversation.conversation_id}", conversation.model_dump_json().encode())

    def delete(self, conversation_id: str) -> bool:
        key = f"c:{conversation_id}"
        if self.kv.get(key) is None:
            return False
        self.kv.delete(key)
        return True

    def get_usage(self, user_id: str) -> UserUsage | None:
        raw = self.kv.get(f"u:{user_id}")
        return None if raw is None else UserUsage.model_validate_json(raw)

    def put_usage(self, usage: UserUsage) -> None:
        self.kv.put(f"u:{usage.user_id}", usage.model_dump_json().encode())

"""The ``DocumentStore`` port over a key-value table: versioned JSON per (kind, id).

Keys: ``<kind>/<id>`` -> head ``{"latest": n, "commands": {command_id: version}}``
and ``<kind>/<id>/v<000001>`` -> the document. A command that runs again (at-
least-once delivery) finds its id in the head and gets its version back
instead of adding one; versions older than ``keep`` are deleted.
"""

from __future__ import annotations

from typing import Any

import orjson

from enginedge_streams.ports.key_value_store import KeyValueStore

MAX_COMMANDS = 200


class KvDocumentStore:
    def __init__(self, kv: KeyValueStore, *, keep: int = 20) -> None:
        self.kv = kv
        self.keep = keep

    def _head(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        raw = self.kv.get(f"{kind}/{doc_id}")
        return None if raw is None else dict(orjson.loads(raw))

    def get(self, kind: str, doc_id: str, version: int | None = None) -> dict[str, Any] | None:
        head = self._head(kind, doc_id)
        if head is None:
            return None
        n = version or int(head["latest"])
        raw = self.kv.get(f"{kind}/{doc_id}/v{n:06d}")
        return None if raw is None else dict(orjson.loads(raw))

    def put(self, kind: str, doc_id: str, data: dict[str, Any], *, command_id: str) -> int:
        head = self._head(kind, doc_id) or {"latest": 0, "commands": {}}
        if command_id in head["commands"]:
            return int(head["commands"][command_id])
        version = int(head["latest"]) + 1
        self.kv.put(f"{kind}/{doc_id}/v{version:06d}", orjson.dumps({**data, "version": version}))
        head["latest"] = version
        head["commands"][command_id] = version
        if len(head["commands"]) > MAX_COMMANDS:
            head["commands"] = dict(list(head["commands"].items())[-MAX_COMMANDS:])
        self.kv.put(f"{kind}/{doc_id}", orjson.dumps(head))
        old = version - self.keep
        if old >= 1:
            self.kv.delete(f"{kind}/{doc_id}/v{old:06d}")
        return version

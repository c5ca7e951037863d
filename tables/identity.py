"""The identity worker's state table (users, e-mail and link indexes, refresh tokens,
families, signing keys, OAuth states). RocksDB-backed and key-partitioned (``tables/kv.py``);
the key layout is documented in ``agents/identity/repository.py``."""

from __future__ import annotations

from typing import Any

import faust

from tables.kv import create_kv_table

TABLE_NAME = "identity-state"


def create_identity_table(app: faust.App, *, partitions: int) -> Any:
    return create_kv_table(
        app,
        TABLE_NAME,
        partitions=partitions,
        help_text="Identity state: users, indexes, refresh tokens, signing keys, OAuth states.",
    )

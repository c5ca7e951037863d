"""Test access to the local stack: started once (idempotently), loopback only."""

from __future__ import annotations

import os

KAFKA = os.environ.get("KAFKA_BROKERS", "127.0.0.1:9092")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def ensure_stack(*names: str) -> None:
    """Start the named services if they are not running (same code as `enginedge stack up`)."""
    from enginedge_streams.stack.services import select

    for service in select(list(names)):
        if not service.status().running:
            service.start()

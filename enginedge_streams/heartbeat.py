"""Worker heartbeats: every process announces itself on the `worker.status` topic.

A heartbeat is published when the worker starts, when it is ready, every
``HEALTH_CHECK_INTERVAL`` seconds, and when it stops. The orchestrator keeps
the live instances in a table and marks one missing after three intervals.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from enginedge_streams.records import utcnow

WorkerState = Literal["starting", "idle", "busy", "stopping"]


def status_topic(prefix: str = "") -> str:
    return f"{prefix}worker.status"


class Heartbeat(BaseModel):
    worker_type: str
    instance_id: str
    version: str
    status: WorkerState
    in_flight: int = 0
    assigned_partitions: list[int] = Field(default_factory=list)
    host: str = Field(default_factory=socket.gethostname)
    pid: int = Field(default_factory=os.getpid)
    port: int | None = None
    interval_seconds: float
    processed: int = 0
    sent_at: datetime = Field(default_factory=utcnow)

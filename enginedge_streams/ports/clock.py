"""The wall clock, as a port (handlers never call ``datetime.now``: tests pin the time)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...

    def timestamp(self) -> float:
        """The same instant as seconds since the epoch (for stored deadlines and phase clocks)."""
        ...

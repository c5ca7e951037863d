"""The ``Clock`` port pinned to an instant that tests move by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FixedClock:
    """``at``: a datetime, epoch seconds, or None for now (to the second)."""

    def __init__(self, at: datetime | float | None = None) -> None:
        if at is None:
            at = datetime.now(UTC).replace(microsecond=0)
        elif not isinstance(at, datetime):
            at = datetime.fromtimestamp(at, UTC)
        self.at = at

    def now(self) -> datetime:
        return self.at

    def timestamp(self) -> float:
        return self.at.timestamp()

    def advance(self, seconds: float = 0.0, **kwargs: float) -> datetime:
        """Move forward by ``seconds`` plus any ``timedelta`` keywords (``minutes=5``)."""
        self.at += timedelta(seconds=seconds, **kwargs)
        return self.at

"""Sends a command to a worker's requests topic (its own, or another worker's)."""

from __future__ import annotations

from typing import Protocol

from enginedge_streams.records import Command


class CommandSender(Protocol):
    async def send(self, worker_type: str, command: Command) -> None:
        """Write ``command`` to ``worker.<worker_type>.requests``, keyed by its command id.

        Fire and forget: the result is not awaited (use a ``BusCaller`` for that).
        """
        ...

"""Where results, dead letters and re-keyed commands are written."""

from __future__ import annotations

from typing import Protocol

from enginedge_streams.records import DeadLetter, Result


class ResultSink(Protocol):
    async def publish_result(
        self, result: Result, *, reply_to: str | None, encoded: bytes | None = None
    ) -> None:
        """Publish ``result`` (``encoded``: its ``encode_result`` bytes, when already made)."""
        ...

    async def publish_dead_letter(self, letter: DeadLetter) -> None: ...

    async def resubmit(self, command_id: str, raw: bytes) -> None:
        """Write a command back to the requests topic keyed by its id."""
        ...

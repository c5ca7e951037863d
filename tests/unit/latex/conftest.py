"""Fixtures for the LaTeX worker's unit tests (no TeX: they run where TeX Live is not
installed). The tests that run the real TeX runner are in tests/integration/latex.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from agents.latex.handlers import CompilePolicy
from enginedge_streams.adapters.filesystem_artifact_store import FilesystemArtifactStore
from enginedge_streams.handlers import CommandContext
from enginedge_streams.records import Command, utcnow


@pytest.fixture
async def store(tmp_path: Path):
    s = FilesystemArtifactStore(tmp_path / "artifacts", retention_hours=1, purge_interval_seconds=0)
    await s.start()
    yield s
    await s.stop()


@pytest.fixture
def policy() -> CompilePolicy:
    return CompilePolicy(timeout_seconds=60)


def context(command_id: str | None = None, seconds: float = 120.0) -> CommandContext:
    fields = {"command_id": command_id} if command_id else {}
    command = Command(command_type="latex.compile", payload={}, **fields)
    return CommandContext(
        command=command,
        worker_type="latex",
        attempt=1,
        deadline=utcnow() + timedelta(seconds=seconds),
    )

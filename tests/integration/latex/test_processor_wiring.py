"""The worker's commands through the platform's command engine (fakes for the bus)."""

from __future__ import annotations

import pytest

from agents.latex.handlers import COMMANDS, CompilePolicy
from agents.latex.ziamath_math_renderer import ZiamathMathRenderer
from enginedge_streams.handlers import bind
from enginedge_streams.processor import IncomingMessage
from enginedge_streams.records import Command, Status
from enginedge_streams.testing import RecordingSink, in_memory_processor
from enginedge_streams.testing.artifact_store import InMemoryArtifactStore
from enginedge_streams.testing.compute_pool import InProcessComputePool

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def engine(runner):
    artifacts = InMemoryArtifactStore()
    handlers = bind(
        COMMANDS,
        {
            "tex": runner,
            "artifacts": artifacts,
            "math": ZiamathMathRenderer(),
            "policy": CompilePolicy(),
            "compute": InProcessComputePool(),  # the log is read as in the worker's pool
        },
    )
    sink = RecordingSink()
    proc = in_memory_processor(
        "latex", handlers, sink=sink, max_attempts=3, timeout_s=60, max_command_bytes=200_000_000
    )
    return proc, sink, artifacts


async def send(proc, command_type: str, payload: dict) -> Command:
    cmd = Command(command_type=command_type, payload=payload)
    raw = cmd.model_dump_json().encode()
    await proc.handle_message(IncomingMessage(cmd.command_id.encode(), raw, "t", 0, 0))
    return cmd


async def test_fifty_megabyte_payload_fails_cleanly_and_the_next_command_runs(engine):
    proc, sink, _ = engine
    await send(proc, "latex.compile", {"main": "%" * 50_000_000})
    await send(
        proc,
        "latex.compile",
        {"main": "\\documentclass{article}\\begin{document}ok\\end{document}"},
    )
    (bad, _), (good, _) = sink.results
    assert bad.status is Status.FAILED and bad.error.code == "INVALID_PAYLOAD"
    assert "main" in bad.error.message and bad.error.retryable is False
    assert good.status is Status.COMPLETED and good.result["artifact"]["pages"] == 1


async def test_compile_failure_and_timeout_are_permanent_failed_results(engine):
    proc, sink, _ = engine
    await send(
        proc,
        "latex.compile",
        {"main": "\\documentclass{article}\\begin{document}\\oops\\end{document}"},
    )
    await send(proc, "latex.compile", {"main": "\\def\\x{\\x}\\x", "timeout_seconds": 1})
    (err, _), (slow, _) = sink.results
    assert err.status is Status.FAILED and err.error.code == "LATEX_ERROR"
    assert err.attempts == 1 and err.error.details["errors"][0]["command"] == "\\oops"
    assert slow.status is Status.FAILED and slow.error.code == "LATEX_TIMEOUT"
    assert slow.attempts == 1  # a loop is not retried


async def test_artifact_get_and_template_list(engine):
    proc, sink, artifacts = engine
    info = await artifacts.put(b"%PDF-1.4 tiny", content_type="application/pdf", filename="t.pdf")
    await send(proc, "latex.artifact.get", {"artifact_id": info.artifact_id})
    await send(proc, "latex.artifact.get", {"artifact_id": "pdf-does-not-exist"})
    await send(proc, "latex.template.list", {})
    (got, _), (missing, _), (listing, _) = sink.results
    assert got.result["content_base64"] == "JVBERi0xLjQgdGlueQ==" and got.result["size"] == 13
    assert got.result["url"] == f"/artifacts/{info.artifact_id}"
    assert missing.status is Status.FAILED and missing.error.code == "NOT_FOUND"
    assert len(listing.result["templates"]) == 6

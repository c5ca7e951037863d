"""Claim checks, the bus's size budget and bounded errors, with the in-memory fakes (no I/O)."""

from __future__ import annotations

import asyncio
import base64

import orjson
import pytest
from click.testing import CliRunner
from pydantic import BaseModel, Field

from enginedge_streams.claim_check import (
    has_references,
    is_reference,
    offload_payload,
    resolve_payload,
)
from enginedge_streams.client import BusClient
from enginedge_streams.codec import encode_command, encode_result
from enginedge_streams.errors import PayloadTooLargeError, ValidationError
from enginedge_streams.handlers import CommandSpec, bind
from enginedge_streams.processor import IncomingMessage
from enginedge_streams.records import Command, Status
from enginedge_streams.settings import (
    BUS_MAX_MESSAGE_BYTES,
    MAX_COMMAND_BYTES,
    MAX_RESULT_BYTES,
    Settings,
    broker_message_max_bytes,
    load,
)
from enginedge_streams.testing import RecordingSink, in_memory_processor
from enginedge_streams.testing.artifact_store import InMemoryArtifactStore


class Doc(BaseModel):
    text: str = Field(max_length=5_000_000)
    content_base64: str | None = None
    rows: int = 0
    sleep: float = 0.0


async def handle_doc(cmd: Doc) -> dict:
    if cmd.sleep:
        await asyncio.sleep(cmd.sleep)
    raw = base64.b64decode(cmd.content_base64) if cmd.content_base64 else b""
    return {
        "chars": len(cmd.text),
        "head": cmd.text[:5],
        "bytes": len(raw),
        "rows": [{"i": i, "pad": "x" * 100} for i in range(cmd.rows)],
    }


async def handle_fail(cmd: Doc) -> dict:
    raise ValidationError(f"cannot parse expression {cmd.text!r}", details={"input": cmd.text})


def processor(artifacts=None):
    sink = RecordingSink()
    handlers = bind(
        [CommandSpec("doc.read", Doc, handle_doc), CommandSpec("doc.fail", Doc, handle_fail)], {}
    )
    proc = in_memory_processor("t", handlers, sink=sink, max_command_bytes=MAX_COMMAND_BYTES)
    proc.artifacts = artifacts
    proc.max_result_bytes = MAX_RESULT_BYTES
    return proc, sink


def msg(cmd: Command) -> IncomingMessage:
    return IncomingMessage(cmd.command_id.encode(), encode_command(cmd), "t", 0, 0)


# -- the budget ----------------------------------------------------------------------


def test_one_budget_and_the_defaults_fit_in_it():
    s = load(Settings)
    assert s.bus_max_message_bytes == BUS_MAX_MESSAGE_BYTES
    assert s.max_command_bytes + 4096 <= s.bus_max_message_bytes
    assert s.max_result_bytes + 4096 <= s.bus_max_message_bytes
    assert broker_message_max_bytes() > s.bus_max_message_bytes
    assert s.compression_type == "lz4"


def test_limits_over_the_budget_are_refused_at_start():
    from enginedge_streams.errors import ConfigError

    with pytest.raises(ConfigError, match="MAX_COMMAND_BYTES"):
        load(Settings, max_command_bytes=2_000_000)
    with pytest.raises(ConfigError, match="KAFKA_COMPRESSION"):
        load(Settings, kafka_compression="brotli")


# -- references ----------------------------------------------------------------------


def test_reference_shape():
    assert is_reference({"kind": "artifact", "artifact_id": "a" * 10})
    assert not is_reference({"kind": "artifact", "artifact_id": "a" * 10, "other": 1})
    assert not is_reference({"kind": "inline", "content_base64": "eA=="})
    assert has_references({"files": [{"content": {"kind": "artifact", "artifact_id": "abcdefgh"}}]})
    assert not has_references({"files": [{"content": "x"}]})


async def test_offload_then_resolve_gives_back_the_same_payload():
    store = InMemoryArtifactStore()
    pdf = bytes(range(256)) * 3000
    payload = {
        "text": "é" * 600_000,
        "content_base64": base64.b64encode(pdf).decode(),
        "small": "stays inline",
        "files": [{"name": "a.tex", "content": "\\section{x}" * 5000}],
    }
    cmd = Command(command_type="doc.read", payload=payload)
    client = BusClient(["127.0.0.1:1"], artifacts=store)
    value = await client.encode(cmd)  # no broker needed: encoding happens before any send
    assert len(value) <= MAX_COMMAND_BYTES
    sent = orjson.loads(value)["payload"]
    assert is_reference(sent["text"]) and is_reference(sent["content_base64"])
    assert sent["small"] == "stays inline"
    # The binary field is stored as the raw file, not as base64 text.
    info, blob = await store.get(sent["content_base64"]["artifact_id"])
    assert blob == pdf and info.size == len(pdf)
    assert await resolve_payload(sent, store, max_bytes=10_000_000) == payload


async def test_client_refuses_what_cannot_fit_before_sending():
    many_small = {"items": ["x" * 100] * 20_000}  # 2 MB, no field worth moving
    cmd = Command(command_type="doc.read", payload=many_small)
    for client in (
        BusClient(["127.0.0.1:1"]),
        BusClient(["127.0.0.1:1"], artifacts=InMemoryArtifactStore()),
    ):
        with pytest.raises(PayloadTooLargeError) as err:
            await client.send("t", cmd)
        assert err.value.code == "PAYLOAD_TOO_LARGE"
        assert f"MAX_COMMAND_BYTES={MAX_COMMAND_BYTES:,}" in err.value.message
        assert "artifact reference" in err.value.message
        assert err.value.details == {"size": len(encode_command(cmd)), "limit": MAX_COMMAND_BYTES}
        assert client.producer is None  # nothing was sent, not even a connection


async def test_offload_respects_the_claim_check_cap():
    with pytest.raises(PayloadTooLargeError, match="CLAIM_CHECK_MAX_BYTES"):
        await offload_payload(
            {"text": "x" * 2_000_000}, InMemoryArtifactStore(), fits=lambda p: False, max_bytes=1000
        )


# -- the worker side -----------------------------------------------------------------


async def test_handler_receives_fields_sent_by_reference():
    store = InMemoryArtifactStore()
    proc, sink = processor(store)
    text_ref = await store.put(b"hello world" * 200_000, content_type="text/plain", filename="t")
    bin_ref = await store.put(b"\x00\xff" * 10, content_type="application/pdf", filename="b")
    cmd = Command(
        command_type="doc.read",
        payload={
            "text": {"kind": "artifact", "artifact_id": text_ref.artifact_id},
            "content_base64": {"kind": "artifact", "artifact_id": bin_ref.artifact_id},
        },
    )
    await proc.handle_message(msg(cmd))
    ((result, _),) = sink.results
    assert result.status is Status.COMPLETED, result.error
    assert result.result["chars"] == 2_200_000 and result.result["head"] == "hello"
    assert result.result["bytes"] == 20


async def test_unknown_reference_fails_with_a_reason():
    proc, sink = processor(InMemoryArtifactStore())
    cmd = Command(
        command_type="doc.read", payload={"text": {"kind": "artifact", "artifact_id": "a" * 32}}
    )
    await proc.handle_message(msg(cmd))
    ((result, _),) = sink.results
    assert result.status is Status.FAILED and result.error.code == "ARTIFACT_NOT_FOUND"
    assert "text" in result.error.message


async def test_a_result_too_large_for_the_bus_comes_back_by_reference():
    store = InMemoryArtifactStore()
    proc, sink = processor(store)
    cmd = Command(command_type="doc.read", payload={"text": "x", "rows": 20_000})
    await proc.handle_message(msg(cmd))
    ((result, _),) = sink.results
    assert result.status is Status.COMPLETED and is_reference(result.result)
    assert len(encode_result(result)) < 2000
    _, blob = await store.get(result.result["artifact_id"])
    assert len(orjson.loads(blob)["rows"]) == 20_000
    # The client reads it back.
    client = BusClient(["127.0.0.1:1"], artifacts=store)
    resolved = await client.resolve(result)
    assert len(resolved.result["rows"]) == 20_000


async def test_without_a_store_a_big_result_is_result_too_large():
    proc, sink = processor(None)
    await proc.handle_message(
        msg(Command(command_type="doc.read", payload={"text": "x", "rows": 20_000}))
    )
    ((result, _),) = sink.results
    assert result.status is Status.FAILED and result.error.code == "RESULT_TOO_LARGE"


# -- bounded errors ------------------------------------------------------------------


async def test_an_error_never_echoes_the_whole_offending_value():
    proc, sink = processor(None)
    expression = "1+" * 495_000  # 990,000 characters
    await proc.handle_message(msg(Command(command_type="doc.fail", payload={"text": expression})))
    ((result, _),) = sink.results
    assert result.status is Status.FAILED and result.error.code == "INVALID_PAYLOAD"
    assert len(result.error.message) < 1200
    assert "990,0" in result.error.message  # the size is named (the repr adds the quotes)
    assert result.error.message.startswith("cannot parse expression '1+1+")
    assert len(result.error.details["input"]) < 400
    assert len(encode_result(result)) < 4000


# -- in-flight duplicates ------------------------------------------------------------


async def test_an_in_flight_duplicate_gets_the_result_on_its_own_reply_to():
    proc, sink = processor(None)
    cmd = Command(
        command_type="doc.read", payload={"text": "abc", "sleep": 0.2}, reply_to="caller.a"
    )
    dup = cmd.model_copy(update={"reply_to": "caller.b"})
    same = cmd.model_copy()
    first = asyncio.ensure_future(proc.handle_message(msg(cmd)))
    await asyncio.sleep(0.05)
    await proc.handle_message(msg(dup))
    await proc.handle_message(msg(same))
    assert sink.results == []  # neither ran nor answered yet
    await first
    replies = [reply_to for result, reply_to in sink.results]
    assert replies == ["caller.a", "caller.b"]
    assert all(r.status is Status.COMPLETED and r.result["chars"] == 3 for r, _ in sink.results)
    assert proc.waiting_replies == {}


# -- the CLI -------------------------------------------------------------------------


def test_cli_refuses_an_oversized_payload_with_exit_code_2(tmp_path, monkeypatch):
    from enginedge_streams.cli.main import cli

    monkeypatch.setenv("KAFKA_BROKERS", "127.0.0.1:1")  # never reached
    monkeypatch.setenv("ARTIFACT_STORE_DIR", str(tmp_path / "claims"))
    payload = tmp_path / "p.json"
    payload.write_text(orjson.dumps({"items": ["x" * 100] * 20_000}).decode())
    out = CliRunner().invoke(cli, ["submit", "spacy", "nlp.analyze", "--payload", f"@{payload}"])
    assert out.exit_code == 2, out.output
    assert "PAYLOAD_TOO_LARGE" in out.output and "MAX_COMMAND_BYTES=1,000,000" in out.output
    assert "Traceback" not in out.output


async def test_a_990k_calculator_expression_fails_with_its_reason_not_result_too_large():
    """The report: the schema error quoted the whole expression twice (1.98 MB)."""
    from agents.agent_tool.executor import ToolExecutor, ToolLimits
    from agents.agent_tool.fakes import InMemoryExecutionBudget
    from agents.agent_tool.handlers import handle_execute
    from agents.agent_tool.messages import ExecuteTool
    from agents.agent_tool.tools.calculator import CalculatorTool
    from enginedge_streams.testing.fakes import InMemoryCache, InMemoryRateLimiter

    executor = ToolExecutor(
        {"calculator": CalculatorTool()},
        ToolLimits(retry_base_s=0.01),
        rate_limiter=InMemoryRateLimiter(),
        cache=InMemoryCache(),
        budget=InMemoryExecutionBudget(),
    )
    sink = RecordingSink()
    handlers = bind(
        [CommandSpec("tool.execute", ExecuteTool, handle_execute)], {"executor": executor}
    )
    proc = in_memory_processor(
        "agent_tool", handlers, sink=sink, max_command_bytes=MAX_COMMAND_BYTES
    )
    proc.max_result_bytes = MAX_RESULT_BYTES
    expression = "1+" * 495_000
    cmd = Command(
        command_type="tool.execute",
        payload={"tool": "calculator", "args": {"expression": expression}},
    )
    await proc.handle_message(msg(cmd))
    ((result, _),) = sink.results
    assert result.status is Status.FAILED
    assert result.error.code == "INVALID_TOOL_ARGS", result.error
    assert "too long" in result.error.message and "characters in all" in result.error.message
    assert len(encode_result(result)) < 20_000

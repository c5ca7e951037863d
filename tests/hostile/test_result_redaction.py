"""Error messages in results are redacted like log lines (providers quote the key they got)."""

from __future__ import annotations

from pydantic import BaseModel

from enginedge_streams.errors import PermanentError
from enginedge_streams.handlers import CommandSpec, bind
from enginedge_streams.logs import REDACTOR
from enginedge_streams.records import Command, Status
from enginedge_streams.testing import RecordingSink, in_memory_processor

SECRET = "configured-secret-value-93f1"


class Empty(BaseModel):
    pass


async def refuse(cmd: Empty) -> None:
    raise PermanentError(
        f"provider answered 401: Incorrect API key provided: {SECRET}; "
        "Authorization: Bearer abcdefghijklmnopq, key sk-proj-ABCDEFGHIJKL"
    )


async def test_failed_results_carry_no_secret_values() -> None:
    REDACTOR.add(SECRET)
    sink = RecordingSink()
    proc = in_memory_processor("t", bind([CommandSpec("t.refuse", Empty, refuse)], {}), sink=sink)
    result = await proc.execute(Command(command_type="t.refuse"))
    assert result is not None and result.status is Status.FAILED
    text = sink.results[0][0].model_dump_json()
    for leaked in (SECRET, "abcdefghijklmnopq", "sk-proj-ABCDEFGHIJKL"):
        assert leaked not in text
    assert "Incorrect API key provided: ***" in text

"""Every upload has a limit with a clear error, and the bus limit comes first.

Uploads travel inside commands as base64 (data_processing ``document.ingest``
inline sources, ``resume.parse``, LaTeX ``files``). Each field has its own limit;
a whole command is also capped by MAX_COMMAND_BYTES (DLQ with the size and the
limit in the reason) and an HTTP body by 1 MiB (413).
"""

from __future__ import annotations

import orjson
import pytest
from pydantic import BaseModel, ValidationError

from agents.data_processing.messages import MAX_INLINE_BASE64, InlineSource
from agents.latex.messages import MAX_FILE_B64_CHARS, MAX_FILES, InputFile
from agents.resume.messages import MAX_BASE64, ResumeSource
from enginedge_streams.codec import decode_command
from enginedge_streams.errors import DecodeError
from enginedge_streams.settings import Settings

CASES = [
    (InlineSource, {"filename": "a.txt"}, "content_base64", MAX_INLINE_BASE64),
    (ResumeSource, {}, "content_base64", MAX_BASE64),
    (InputFile, {"path": "img/a.png"}, "content_base64", MAX_FILE_B64_CHARS),
]


@pytest.mark.parametrize(("model", "base", "field", "limit"), CASES)
def test_upload_fields_refuse_more_than_their_limit(
    model: type[BaseModel], base: dict[str, object], field: str, limit: int
) -> None:
    with pytest.raises(ValidationError) as caught:
        model.model_validate({**base, field: "A" * (limit + 4)})
    error = caught.value.errors()[0]
    assert error["loc"] == (field,) and error["type"] == "string_too_long"
    assert f"at most {limit} characters" in error["msg"]


def test_latex_file_count_is_limited() -> None:
    from agents.latex.messages import CompileDocument

    files = [{"path": f"f{i}.tex", "content": "x"} for i in range(MAX_FILES + 1)]
    with pytest.raises(ValidationError, match=f"at most {MAX_FILES} items"):
        CompileDocument.model_validate({"main": "\\relax", "files": files})


def test_the_bus_limit_caps_every_upload_with_a_clear_reason() -> None:
    limit = Settings.model_fields["max_command_bytes"].default
    upload = "A" * (limit + 8)  # valid base64, under the field limits of data_processing/resume
    assert len(upload) < MAX_INLINE_BASE64 and len(upload) < MAX_BASE64
    raw = orjson.dumps(
        {
            "command_id": "up-1",
            "command_type": "document.ingest",
            "payload": {"source": {"kind": "inline", "content_base64": upload, "filename": "a"}},
        }
    )
    with pytest.raises(DecodeError) as caught:
        decode_command(raw, max_bytes=limit)
    assert f"exceeds MAX_COMMAND_BYTES={limit}" in caught.value.message
    assert caught.value.details == {"size": len(raw), "limit": limit}

"""A payload field holding base64 (files in commands): checked when the command is decoded."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints


def valid_base64(value: str) -> str:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not valid base64") from None
    return value


#: ``content_base64: Base64Text = Field(...)``: a string that decodes as strict base64.
Base64Text = Annotated[str, AfterValidator(valid_base64)]


def base64_text(min_length: int, max_length: int) -> Any:
    """Base64 text whose length limits are checked before it is decoded.

    Use it where the field is optional (``base64_text(4, N) | None``): on a union, pydantic
    applies a ``Field(max_length=...)`` only after the validators have run (and reports
    ``too_long``), so a huge value would be decoded before it is refused.
    """
    return Annotated[
        str,
        StringConstraints(min_length=min_length, max_length=max_length),
        AfterValidator(valid_base64),
    ]

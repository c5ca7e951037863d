"""A payload field holding base64 (files in commands): checked when the command is decoded."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from pydantic import AfterValidator


def valid_base64(value: str) -> str:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not valid base64") from None
    return value


#: ``content_base64: Base64Text = Field(...)``: a string that decodes as strict base64.
Base64Text = Annotated[str, AfterValidator(valid_base64)]

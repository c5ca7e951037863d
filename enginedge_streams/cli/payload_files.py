"""``enginedge submit --file FIELD=PATH``: put a file's content in a payload field."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import click


def put_files(payload: dict[str, Any], files: tuple[str, ...]) -> None:
    """Set each dotted FIELD of ``payload`` to PATH's text (or base64 for ``*_base64``)."""
    for item in files:
        field, sep, path = item.partition("=")
        if not sep or not field or not path:
            raise click.BadParameter(f"expected FIELD=PATH, got {item!r}", param_hint="--file")
        try:
            data = Path(path).expanduser().read_bytes()
        except OSError as exc:
            raise click.BadParameter(f"{path}: {exc.strerror}", param_hint="--file") from None
        steps = field.split(".")
        if steps[-1].endswith("_base64"):
            value = base64.b64encode(data).decode("ascii")
        else:
            try:
                value = data.decode("utf-8")
            except UnicodeDecodeError:
                raise click.BadParameter(
                    f"{path} is not UTF-8 text; use a `*_base64` field for binary files",
                    param_hint="--file",
                ) from None
        target = payload
        for step in steps[:-1]:
            nxt = target.setdefault(step, {})
            if not isinstance(nxt, dict):
                raise click.BadParameter(f"{field}: {step!r} is not an object", param_hint="--file")
            target = nxt
        target[steps[-1]] = value

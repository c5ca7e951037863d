"""The configuration table of the README, generated from the settings classes."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr
from pydantic_settings import BaseSettings

import agents
from enginedge_streams.settings import Settings


def rows() -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    from enginedge_streams.safe_http import HttpSettings

    classes: list[type[BaseSettings]] = [Settings, HttpSettings, *agents.settings_classes()]
    for cls in classes:
        for name, field in cls.model_fields.items():
            out.append(
                {
                    "env": name.upper(),
                    "default": _default(field.default, field.annotation),
                    "description": field.description or "",
                    "scope": _scope(cls),
                }
            )
    return out


def _default(value: Any, annotation: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, SecretStr):
        return "(secret)"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if value != "" else "(empty)"


BEGIN, END = "<!-- config:begin -->", "<!-- config:end -->"


def inject(readme: str) -> str:
    """README text with the configuration table between the markers replaced."""
    head, sep, rest = readme.partition(BEGIN)
    _, sep2, tail = rest.partition(END)
    if not sep or not sep2:
        raise ValueError("README has no configuration markers")
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


def table() -> str:
    lines = ["| Variable | Default | Scope | Description |", "|---|---|---|---|"]
    for row in rows():
        desc = row["description"].replace("|", "\\|")
        lines.append(f"| `{row['env']}` | `{row['default']}` | {row['scope']} | {desc} |")
    return "\n".join(lines)


def _scope(cls: type[BaseSettings]) -> str:
    if cls.__module__.startswith("agents."):
        return cls.__module__.split(".")[1]
    if cls.__name__ == "HttpSettings":
        return "outbound HTTP"
    return "all workers"

"""Tool calls a local model wrote as text instead of in its template's tool syntax.

Qwen2.5's template asks for ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``;
llama-server turns that into OpenAI ``tool_calls``. Small models sometimes
write the same JSON object in a code fence or bare. Such a reply is read as a
call only when the object names one of the offered tools and its arguments are
an object, so a plain answer that happens to contain JSON is left alone.

A model also names a tool's *operation* instead of the tool (``{"name": "diff",
...}`` for the date tool, whose ``operation`` enum has ``diff``): with
``operations`` (from :func:`operation_names`) such an object is read as a call
of that tool with the operation set, when exactly one offered tool has it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from agents.llm.ports import ToolCall, ToolSpec

_START = re.compile(r"<tool_call>|```(?:json)?|\{")
_ATTEMPT = re.compile(r"<tool_call>|\"(?:name|tool)\"\s*:")


def looks_like_call(text: str) -> bool:
    """Whether a reply tried to call a tool (for the parse-failure count)."""
    return _ATTEMPT.search(text) is not None


def _objects(text: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    decoder = json.JSONDecoder()
    pos = 0
    while (m := _START.search(text, pos)) is not None:
        start = text.find("{", m.start())
        if start < 0:
            break
        try:
            value, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            pos = start + 1
            continue
        if isinstance(value, dict):
            found.append(value)
        pos = end
    return found


def operation_names(specs: Sequence[ToolSpec]) -> dict[str, tuple[str, str]]:
    """Enum values of the offered tools' string parameters -> (tool, parameter).

    Only values that are not themselves a tool's name and belong to one tool."""
    names = {spec.name for spec in specs}
    seen: dict[str, list[tuple[str, str]]] = {}
    for spec in specs:
        for param, schema in spec.parameters.get("properties", {}).items():
            enum = schema.get("enum") if isinstance(schema, dict) else None
            for value in enum or ():
                if isinstance(value, str) and value not in names:
                    seen.setdefault(value, []).append((spec.name, param))
    return {value: where[0] for value, where in seen.items() if len(where) == 1}


def extract_tool_calls(
    text: str,
    allowed: set[str],
    *,
    prefix: str,
    operations: Mapping[str, tuple[str, str]] | None = None,
) -> tuple[ToolCall, ...]:
    """The calls written in ``text`` to tools in ``allowed`` (ids derived from ``prefix``)."""
    calls = []
    for obj in _objects(text):
        name = obj.get("name") or obj.get("tool")
        args = obj.get("arguments", obj.get("parameters", obj.get("args")))
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except json.JSONDecodeError:
                continue
        if isinstance(name, str) and name not in allowed and operations and name in operations:
            tool, param = operations[name]
            if tool in allowed and isinstance(args, dict) and args.get(param, name) == name:
                name, args = tool, {param: name, **args}
        if isinstance(name, str) and name in allowed and isinstance(args, dict):
            digest = hashlib.sha256(json.dumps([name, args], sort_keys=True).encode()).hexdigest()
            calls.append(ToolCall(f"{prefix}-{digest[:8]}", name, args))
    return tuple(calls)

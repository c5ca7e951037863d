"""JSON Schemas of the wire contract, generated from the code into ``docs/schemas``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import agents
from enginedge_streams.handlers import CommandSpec
from enginedge_streams.records import Command, DeadLetter, Result
from enginedge_streams.system import SYSTEM_COMMANDS


def envelope_schemas() -> dict[str, dict[str, Any]]:
    return {
        "command": Command.model_json_schema(),
        "result": Result.model_json_schema(),
        "dead-letter": DeadLetter.model_json_schema(),
    }


def payload_schemas() -> dict[str, dict[str, dict[str, Any]]]:
    """{worker_type: {command_type: schema}} (system commands under `system`)."""
    out: dict[str, dict[str, dict[str, Any]]] = {
        "system": {s.command_type: _schema(s) for s in SYSTEM_COMMANDS}
    }
    for worker_type in sorted(agents.REGISTRY):
        specs = [s for s in agents.commands(worker_type) if isinstance(s, CommandSpec)]
        out[worker_type] = {s.command_type: _schema(s) for s in specs}
    return out


def _schema(spec: CommandSpec) -> dict[str, Any]:
    schema = spec.payload_model.model_json_schema()
    schema["title"] = spec.command_type
    if spec.description:
        schema["description"] = spec.description
    return schema


def render() -> dict[str, str]:
    """Relative path -> file content, deterministic."""
    files = {f"{name}.schema.json": _dump(schema) for name, schema in envelope_schemas().items()}
    for worker_type, commands in payload_schemas().items():
        for command_type, schema in commands.items():
            files[f"payloads/{worker_type}/{command_type}.schema.json"] = _dump(schema)
    return files


def write_schemas(out: str | Path) -> list[Path]:
    root = Path(out)
    written = []
    for rel, content in sorted(render().items()):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        written.append(path)
    return written


def _dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"

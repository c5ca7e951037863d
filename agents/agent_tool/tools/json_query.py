"""``json_query``: a JMESPath expression over a JSON document."""

from __future__ import annotations

from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

from agents.agent_tool.ports import Tool, ToolContext, ToolDeps
from enginedge_streams.errors import ValidationError


class JsonQueryTool:
    name = "json_query"
    description = (
        "Query a JSON document with a JMESPath expression (e.g. `people[?age > `30`].name`)."
    )
    args_schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "expression": {"type": "string", "minLength": 1, "maxLength": 2_000},
            "data": {"description": "The JSON document (any JSON value)."},
        },
        "required": ["expression", "data"],
        "additionalProperties": False,
    }
    read_only = True
    cacheable = True

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> Any:
        try:
            compiled = jmespath.compile(args["expression"])
            return {"result": compiled.search(args["data"])}
        except JMESPathError as exc:
            raise ValidationError(
                f"invalid JMESPath expression: {exc}", code="INVALID_EXPRESSION"
            ) from None


def create(deps: ToolDeps) -> Tool:
    return JsonQueryTool()

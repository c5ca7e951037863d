"""``datetime``: the current time, time-zone conversion and differences (IANA zones)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agents.agent_tool.ports import Tool, ToolContext, ToolDeps
from enginedge_streams.errors import ValidationError


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"unknown time zone {name!r}", code="UNKNOWN_TIMEZONE") from None


def _parse(value: str, tz: str | None) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            f"not an ISO 8601 date-time: {value!r}", code="INVALID_DATETIME"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_zone(tz) if tz else UTC)
    return parsed


def _describe(seconds: float) -> str:
    sign = "-" if seconds < 0 else ""
    s = abs(int(seconds))
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{days}d {hours}h {minutes}m {secs}s"


class DateTimeTool:
    name = "datetime"
    description = (
        "Date and time: `now` in a time zone, `convert` a date-time between zones, "
        "`diff` between two date-times. Zones are IANA names (e.g. Europe/Paris)."
    )
    args_schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "operation": {"enum": ["now", "convert", "diff"]},
            "timezone": {"type": "string", "maxLength": 64, "default": "UTC"},
            "datetime": {"type": "string", "maxLength": 64},
            "from_timezone": {"type": "string", "maxLength": 64},
            "to_timezone": {"type": "string", "maxLength": 64},
            "start": {"type": "string", "maxLength": 64},
            "end": {"type": "string", "maxLength": 64},
        },
        "required": ["operation"],
        "additionalProperties": False,
        "allOf": [
            {
                "if": {"properties": {"operation": {"const": "convert"}}},
                "then": {"required": ["datetime", "to_timezone"]},
            },
            {
                "if": {"properties": {"operation": {"const": "diff"}}},
                "then": {"required": ["start", "end"]},
            },
        ],
    }
    read_only = True
    cacheable = False  # "now" changes

    def __init__(self, clock: Any = None) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> Any:
        op = args["operation"]
        if op == "now":
            tz = args.get("timezone", "UTC")
            now = self.clock().astimezone(_zone(tz))
            return {"datetime": now.isoformat(), "timezone": tz, "weekday": now.strftime("%A")}
        if op == "convert":
            source = _parse(args["datetime"], args.get("from_timezone"))
            target = source.astimezone(_zone(args["to_timezone"]))
            return {"datetime": target.isoformat(), "timezone": args["to_timezone"]}
        start = _parse(args["start"], args.get("timezone"))
        end = _parse(args["end"], args.get("timezone"))
        seconds = (end - start).total_seconds()
        return {"seconds": seconds, "days": seconds / 86400, "human": _describe(seconds)}


def create(deps: ToolDeps) -> Tool:
    return DateTimeTool()

"""The live progress of `enginedge workflow run` and `status --follow`: the request's events
from the `orchestrator.events` topic, shown one line per change (not a terminal) or as a
redrawn table (a terminal)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import click

from enginedge_streams.faust_patches import force_metadata_update
from enginedge_streams.settings import Settings

_STYLE = {
    "completed": "green",
    "failed": "red",
    "timed_out": "red",
    "cancelled": "yellow",
    "waiting": "magenta",
    "retrying": "yellow",
    "running": "cyan",
}


class RequestEvents:
    """Follows orchestrator.events from its current end, for one request id."""

    def __init__(self, s: Settings) -> None:
        self.s = s
        self.consumer: Any = None

    async def start(self) -> None:
        from aiokafka import AIOKafkaConsumer, TopicPartition

        from enginedge_streams.topics import orchestrator_events_topic

        topic = orchestrator_events_topic(self.s.topic_prefix)
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.s.bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=100,
        )
        await self.consumer.start()
        partitions = self.consumer.partitions_for_topic(topic)
        if not partitions:
            await force_metadata_update(self.consumer)  # a fresh client
            partitions = self.consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if tps:
            self.consumer.assign(tps)
            await self.consumer.seek_to_end(*tps)
            for tp in tps:
                await self.consumer.position(tp)

    async def next(self, request_id: str, timeout: float) -> list[dict[str, Any]]:
        if self.consumer is None or not self.consumer.assignment():
            await asyncio.sleep(timeout)
            return []
        batch = await self.consumer.getmany(timeout_ms=int(timeout * 1000))
        out = []
        for messages in batch.values():
            for msg in messages:
                if msg.key == request_id.encode():
                    with contextlib.suppress(ValueError):
                        out.append(json.loads(msg.value))
        return sorted(out, key=lambda e: e.get("seq", 0))

    async def stop(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()


class RequestProgress:
    """The steps of one request, updated from events and views; printed or redrawn."""

    def __init__(self, view: dict[str, Any], *, live: bool) -> None:
        self.request_id = view["request_id"]
        self.workflow = view.get("workflow", "")
        self.status = view.get("status", "pending")
        self.steps: dict[str, dict[str, Any]] = {s["id"]: dict(s) for s in view.get("steps", [])}
        self.started = time.monotonic()
        self.live = live
        self._live: Any = None
        self.seen = 0

    def __enter__(self) -> RequestProgress:
        if self.live:
            from rich.live import Live

            self._live = Live(self.render(), refresh_per_second=8, transient=False)
            self._live.__enter__()
        else:
            click.echo(f"{self.request_id} {self.workflow}: {self.status}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.update(self.render())
            self._live.__exit__(None, None, None)

    def apply_view(self, view: dict[str, Any]) -> None:
        self.status = view.get("status", self.status)
        for s in view.get("steps", []):
            self.steps[s["id"]] = {**self.steps.get(s["id"], {}), **s}
        self._refresh()

    def apply_event(self, event: dict[str, Any]) -> None:
        if event.get("seq", 0) <= self.seen:
            return
        self.seen = event["seq"]
        self.status = event.get("request_status", self.status)
        sid = event.get("step")
        if sid:
            step = self.steps.setdefault(sid, {"id": sid})
            step["status"] = event.get("step_status", step.get("status"))
            for key in ("worker_type", "command_type", "attempts", "reason", "error", "items"):
                if key in event:
                    step[key] = event[key]
            if event.get("reason") is None and step.get("status") != "waiting":
                step["reason"] = None
        if not self.live:
            click.echo(self._line(event))
        self._refresh()

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self.render())

    @staticmethod
    def _line(event: dict[str, Any]) -> str:
        parts = [f"[{event.get('seq', '?')}]", event.get("event", "?")]
        if event.get("step"):
            parts.append(
                f"{event['step']} ({event.get('worker_type')} {event.get('command_type')})"
            )
            if event.get("attempt"):
                parts.append(f"attempt {event['attempt']}")
            if event.get("items"):
                parts.append(f"items {event['items'].get('done')}/{event['items'].get('total')}")
        if event.get("reason"):
            parts.append(f"- {event['reason']}")
        if event.get("error"):
            parts.append(f"- {event['error'].get('code')}: {event['error'].get('message')}")
        return " ".join(parts)

    def render(self) -> Any:
        from rich.table import Table

        elapsed = time.monotonic() - self.started
        colour = _STYLE.get(self.status, "white")
        table = Table(
            title=f"{self.workflow} {self.request_id} [{colour}]{self.status}[/] ({elapsed:.1f}s)",
            title_justify="left",
        )
        for col in ("step", "worker", "command", "status", "attempts", "detail"):
            table.add_column(col)
        for s in self.steps.values():
            st = s.get("status", "pending")
            detail = s.get("reason") or ""
            if s.get("error"):
                detail = f"{s['error'].get('code')}: {s['error'].get('message', '')}"[:80]
            elif s.get("items"):
                items = s["items"]
                done = items.get("done", items.get("completed", 0))
                detail = f"{done}/{items.get('total')} items"
            table.add_row(
                s["id"],
                str(s.get("worker_type", "")),
                str(s.get("command_type", "")),
                f"[{_STYLE.get(st, 'white')}]{st}[/]",
                str(s.get("attempts", 0)),
                detail,
            )
        return table

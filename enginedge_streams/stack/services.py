"""The services of the local stack, in start order."""

from __future__ import annotations

from typing import Protocol

from enginedge_streams.stack.base import ServiceStatus
from enginedge_streams.stack.kafka import KafkaService
from enginedge_streams.stack.postgres import PostgresService
from enginedge_streams.stack.redis import RedisService


class Service(Protocol):
    name: str

    def start(self, timeout: float = ...) -> None: ...

    def stop(self) -> None: ...

    def status(self) -> ServiceStatus: ...


def all_services() -> dict[str, Service]:
    return {"kafka": KafkaService(), "redis": RedisService(), "postgres": PostgresService()}


def select(names: list[str] | None) -> list[Service]:
    services = all_services()
    if not names:
        return list(services.values())
    unknown = [n for n in names if n not in services]
    if unknown:
        raise SystemExit(f"unknown service(s): {', '.join(unknown)} (known: {', '.join(services)})")
    return [services[n] for n in names]

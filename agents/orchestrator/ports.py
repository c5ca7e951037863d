"""Ports of the orchestrator (typing.Protocol): what the engine and service need from outside."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel


@dataclass(frozen=True)
class Principal:
    """Who calls the HTTP API: a JWT subject (user and tenant), or the static token holder."""

    kind: str  # "jwt" | "token"
    user_id: str | None = None
    tenant_id: str | None = None


class Unauthorized(Exception):  # noqa: N818 - an HTTP outcome, not a bug
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class WorkerCatalog(Protocol):
    """The worker types a workflow may use, and their commands' payload models."""

    def worker_types(self) -> list[str]: ...

    def commands(self, worker_type: str) -> dict[str, type[BaseModel]] | None:
        """{command_type: payload model}; None when the worker's commands cannot be listed."""
        ...


class DriveSender(Protocol):
    """Sends an internal event (tick, resume) to the orchestrator's own drive topic."""

    async def send(self, request_id: str, kind: str) -> None: ...


class Authenticator(Protocol):
    """Checks the `Authorization` header of an HTTP request (raises Unauthorized)."""

    async def authenticate(self, authorization: str) -> Principal: ...

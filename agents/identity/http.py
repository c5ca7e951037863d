"""The identity worker's HTTP routes: the JWKS (public signing keys) on the worker's port."""

from __future__ import annotations

from typing import TYPE_CHECKING

from faust import web

from agents.identity.keys import KeyRing
from enginedge_streams.ports.clock import Clock

if TYPE_CHECKING:
    from enginedge_streams.runtime import WorkerRuntime


def install_routes(runtime: WorkerRuntime, keys: KeyRing, clock: Clock) -> None:
    @runtime.app.page("/.well-known/jwks.json")
    async def jwks(self: web.View, request: web.Request) -> web.Response:
        return self.json(keys.jwks(clock.now()), headers={"Cache-Control": "public, max-age=300"})

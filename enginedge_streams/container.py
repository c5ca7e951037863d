"""The dependency container the composition root hands to each worker's ``register``.

It builds shared adapters lazily (nothing connects in a constructor) and lets
tests replace any dependency by name through ``overrides``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

from enginedge_streams.logs import REDACTOR, Redactor
from enginedge_streams.ports.artifact_store import ArtifactStore
from enginedge_streams.ports.cache import Cache
from enginedge_streams.ports.rate_limiter import RateLimiter
from enginedge_streams.settings import Settings

T = TypeVar("T")
ReadinessCheck = Callable[[], Awaitable[tuple[bool, str]]]


class Lifecycle(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class Container:
    settings: Settings
    overrides: dict[str, Any] = field(default_factory=dict)
    redactor: Redactor = REDACTOR
    components: list[Lifecycle] = field(default_factory=list)
    readiness: dict[str, ReadinessCheck] = field(default_factory=dict)
    #: the worker's compute steps module (``<worker package>.compute``), imported once by
    #: each compute child; named by the composition root from the registry
    steps_module: str | None = None
    _made: dict[str, Any] = field(default_factory=dict)

    def provide(self, name: str, factory: Callable[[], T]) -> T:
        """The override for ``name`` if a test gave one, else one instance from ``factory``."""
        if name in self.overrides:
            return cast(T, self.overrides[name])
        if name not in self._made:
            self._made[name] = factory()
        return cast(T, self._made[name])

    def manage(self, component: T) -> T:
        """Start ``component`` with the worker and stop it on shutdown (if it has start/stop)."""
        lifecycle = hasattr(component, "start") and hasattr(component, "stop")
        if lifecycle and all(c is not component for c in self.components):
            self.components.append(cast(Lifecycle, component))
        return component

    def add_readiness(self, name: str, check: ReadinessCheck) -> None:
        self.readiness[name] = check

    # -- shared adapters -----------------------------------------------------------

    def cache(self, namespace: str) -> Cache:
        def make() -> Cache:
            from enginedge_streams.adapters.redis_cache import RedisCache

            return RedisCache(self.redis(), namespace=f"{self.settings.topic_prefix}{namespace}")

        return self.manage(self.provide(f"cache:{namespace}", make))

    def rate_limiter(self) -> RateLimiter:
        def make() -> RateLimiter:
            from enginedge_streams.adapters.redis_rate_limiter import RedisRateLimiter

            return RedisRateLimiter(self.redis(), prefix=f"{self.settings.topic_prefix}rl:")

        return self.provide("rate_limiter", make)

    def redis(self) -> Any:
        def make() -> Any:
            from enginedge_streams.adapters.redis_client import RedisClient

            return RedisClient(self.settings.redis_url)

        client = self.manage(self.provide("redis", make))
        if "redis" not in self.readiness and hasattr(client, "ping"):

            async def check() -> tuple[bool, str]:
                ok = await client.ping()
                return ok, "reachable" if ok else "unreachable"

            self.add_readiness("redis", check)
        return client

    def artifact_store(self) -> ArtifactStore:
        """The platform's artifact store (claim checks): ARTIFACT_STORE=filesystem|s3."""

        def make() -> ArtifactStore:
            from enginedge_streams.claim_check import make_store

            return make_store(self.settings)

        store = self.manage(self.provide("artifact_store", make))
        if "artifact_store" not in self.readiness:
            self.add_readiness("artifact_store", store.ready)
        return store

    def bus(self, *, inbox: str) -> Any:
        """A bus client for cross-worker calls (``await bus.call(...)``)."""

        def make() -> Any:
            from enginedge_streams.client import BusClient

            s = self.settings
            return BusClient(
                s.bootstrap_servers,
                prefix=s.topic_prefix,
                partitions=s.topic_partitions,
                replication_factor=s.topic_replication_factor,
                client_name=inbox,
                max_command_bytes=s.max_command_bytes,
                max_message_bytes=s.bus_max_message_bytes,
                compression_type=s.compression_type,
                artifacts=self.artifact_store(),  # big fields of cross-worker calls: claim checks
                claim_check_max_bytes=s.claim_check_max_bytes,
            )

        return self.manage(self.provide("bus", make))

"""The bus client: submit commands and await their results over Kafka.

Used by the CLI, by tests, and by workers for cross-worker calls (no worker
calls another over ad-hoc HTTP). ``call`` listens on the target worker's
results topic from its current end *before* sending, so no result is missed;
results are matched by ``command_id``.

Sizes: a command bigger than MAX_COMMAND_BYTES never reaches the producer.
With an artifact store, its largest string fields are uploaded and replaced
by ``{"kind": "artifact", "artifact_id": ...}`` references (claim check,
:mod:`enginedge_streams.claim_check`) until it fits; without one, or if it
still does not fit, ``send`` raises ``PayloadTooLargeError`` naming the limit.
A result that came back by reference is read from the store by ``call``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter, OrderedDict
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from enginedge_streams.claim_check import JSON, is_reference, load_result_value, offload_payload
from enginedge_streams.codec import CLAIM_CHECK_HINT, decode_result, encode_command
from enginedge_streams.errors import DeadlineExceededError, PayloadTooLargeError
from enginedge_streams.ports.artifact_store import ArtifactStore
from enginedge_streams.records import Command, Result
from enginedge_streams.settings import (
    BUS_MAX_MESSAGE_BYTES,
    FETCH_MAX_BYTES,
    MAX_COMMAND_BYTES,
    Settings,
    broker_message_max_bytes,
    topic_size_config,
)
from enginedge_streams.topics import WorkerTopics

log = logging.getLogger("enginedge.client")


class _ResultListener:
    """Reads one results topic from its end and resolves waiters by command id."""

    def __init__(
        self,
        servers: list[str],
        topic: str,
        partitions: set[int],
        keep: int = 10_000,
        max_message_bytes: int = BUS_MAX_MESSAGE_BYTES,
    ) -> None:
        self.max_message_bytes = max_message_bytes
        self.servers = servers
        self.partitions = partitions
        self.topic = topic
        self.waiters: dict[str, list[asyncio.Future[Result]]] = {}
        self.seen: OrderedDict[str, Result] = OrderedDict()
        self.counts: Counter[str] = Counter()  # result records seen per command id
        self.keep = keep
        self.consumer: AIOKafkaConsumer | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.servers,
            enable_auto_commit=False,
            group_id=None,
            fetch_max_wait_ms=50,
            max_partition_fetch_bytes=broker_message_max_bytes(self.max_message_bytes),
            fetch_max_bytes=FETCH_MAX_BYTES,
        )
        await self.consumer.start()
        tps = [TopicPartition(self.topic, p) for p in sorted(self.partitions)]
        self.consumer.assign(tps)
        await self.consumer.seek_to_end(*tps)
        for tp in tps:  # resolve positions now: later results are ours to see
            await self.consumer.position(tp)
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        assert self.consumer is not None
        async for msg in self.consumer:
            try:
                result = decode_result(msg.value or b"")
            except Exception:
                log.warning("ignoring an undecodable result on %s", self.topic)
                continue
            self.seen[result.command_id] = result
            self.counts[result.command_id] += 1
            if len(self.seen) > self.keep:
                self.seen.popitem(last=False)
            for fut in self.waiters.pop(result.command_id, []):
                if not fut.done():
                    fut.set_result(result)

    async def wait(self, command_id: str, timeout: float) -> Result:
        if command_id in self.seen:
            return self.seen[command_id]
        fut: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self.waiters.setdefault(command_id, []).append(fut)
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            raise DeadlineExceededError(
                f"no result for {command_id} on {self.topic} within {timeout:.1f}s",
                details={"command_id": command_id, "topic": self.topic},
            ) from None
        finally:
            waiters = self.waiters.get(command_id)
            if waiters and fut in waiters:
                waiters.remove(fut)
                if not waiters:
                    self.waiters.pop(command_id, None)

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        if self.consumer is not None:
            await self.consumer.stop()


class BusClient:
    def __init__(
        self,
        bootstrap_servers: list[str],
        *,
        prefix: str = "",
        partitions: int = 4,
        replication_factor: int = 1,
        client_name: str = "enginedge-client",
        max_command_bytes: int = MAX_COMMAND_BYTES,
        max_message_bytes: int = BUS_MAX_MESSAGE_BYTES,
        compression_type: str | None = "lz4",
        artifacts: ArtifactStore | None = None,
        claim_check_max_bytes: int = 64 * 1024 * 1024,
        owns_artifacts: bool = False,
    ) -> None:
        self.max_command_bytes = max_command_bytes
        self.max_message_bytes = max_message_bytes
        self.compression_type = compression_type
        self.artifacts = artifacts
        self.claim_check_max_bytes = claim_check_max_bytes
        self._owns_artifacts = owns_artifacts
        self.servers = bootstrap_servers
        self.prefix = prefix
        self.partitions = partitions
        self.replication_factor = replication_factor
        self.client_name = client_name
        self.producer: AIOKafkaProducer | None = None
        self.listeners: dict[str, _ResultListener] = {}
        self._lock = asyncio.Lock()
        self._ensured: set[str] = set()

    async def start(self) -> None:
        if self.producer is None:
            self.producer = AIOKafkaProducer(
                bootstrap_servers=self.servers,
                client_id=self.client_name,
                acks="all",
                linger_ms=1,
                enable_idempotence=True,
                max_request_size=self.max_message_bytes,
                compression_type=self.compression_type,
            )
            await self.producer.start()

    async def stop(self) -> None:
        for listener in list(self.listeners.values()):
            await listener.stop()
        self.listeners.clear()
        if self.producer is not None:
            await self.producer.stop()
            self.producer = None
        stop = getattr(self.artifacts, "stop", None)
        if self._owns_artifacts and stop is not None:
            await stop()

    @classmethod
    def from_settings(
        cls, settings: Settings, *, client_name: str = "enginedge-client", claim_checks: bool = True
    ) -> BusClient:
        """A client with the settings' bus budget and (``claim_checks``) artifact store."""
        artifacts = None
        if claim_checks:
            from enginedge_streams.claim_check import make_store

            artifacts = make_store(settings)
        return cls(
            settings.bootstrap_servers,
            prefix=settings.topic_prefix,
            partitions=settings.topic_partitions,
            replication_factor=settings.topic_replication_factor,
            client_name=client_name,
            max_command_bytes=settings.max_command_bytes,
            max_message_bytes=settings.bus_max_message_bytes,
            compression_type=settings.compression_type,
            artifacts=artifacts,
            claim_check_max_bytes=settings.claim_check_max_bytes,
            owns_artifacts=artifacts is not None,
        )

    async def __aenter__(self) -> BusClient:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def topics(self, worker_type: str) -> WorkerTopics:
        return WorkerTopics(worker_type, self.prefix)

    async def ensure_topics(self, worker_type: str) -> None:
        """Create the worker's topics if missing (same partition count as the workers use)."""
        if worker_type in self._ensured:
            return
        t = self.topics(worker_type)
        admin = AIOKafkaAdminClient(bootstrap_servers=self.servers)
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            new = [
                NewTopic(
                    name,
                    self.partitions,
                    self.replication_factor,
                    topic_configs=topic_size_config(self.max_message_bytes),
                )
                for name in (t.requests, t.results, t.dlq)
                if name not in existing
            ]
            if new:
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics(new)
        finally:
            await admin.close()
        self._ensured.add(worker_type)

    async def listen(self, worker_type: str) -> _ResultListener:
        async with self._lock:
            if worker_type not in self.listeners:
                await self.start()
                await self.ensure_topics(worker_type)
                assert self.producer is not None
                topic = self.topics(worker_type).results
                partitions = await self.producer.partitions_for(topic)
                listener = _ResultListener(
                    self.servers, topic, set(partitions), max_message_bytes=self.max_message_bytes
                )
                await listener.start()
                self.listeners[worker_type] = listener
            return self.listeners[worker_type]

    def command(self, command_type: str, payload: dict[str, Any], **fields: Any) -> Command:
        return Command(command_type=command_type, payload=payload, **fields)

    async def send(self, worker_type: str, command: Command) -> str:
        value = await self.encode(command)
        await self.start()
        await self.ensure_topics(worker_type)
        assert self.producer is not None
        await self.producer.send_and_wait(
            self.topics(worker_type).requests, key=command.command_id.encode(), value=value
        )
        return command.command_id

    async def encode(self, command: Command) -> bytes:
        """The command's bytes within MAX_COMMAND_BYTES, big fields moved to the artifact store.

        Raises ``PayloadTooLargeError`` (nothing is sent) when it cannot fit.
        """
        value = encode_command(command)
        if len(value) <= self.max_command_bytes:
            return value
        size = len(value)
        if self.artifacts is not None:

            def fits(payload: dict[str, Any]) -> bool:
                candidate = command.model_copy(update={"payload": payload})
                return len(encode_command(candidate)) <= self.max_command_bytes

            payload, moved = await offload_payload(
                command.payload,
                self.artifacts,
                fits=fits,
                max_bytes=self.claim_check_max_bytes,
            )
            if fits(payload):
                log.info("claim check: %s sent by artifact reference", ", ".join(moved))
                return encode_command(command.model_copy(update={"payload": payload}))
        hint = (
            "no field could be moved to the artifact store"
            if self.artifacts is not None
            else "no artifact store is configured"
        )
        raise PayloadTooLargeError(
            f"command {command.command_type} of {size:,} bytes exceeds MAX_COMMAND_BYTES="
            f"{self.max_command_bytes:,} and {hint}; {CLAIM_CHECK_HINT}",
            details={"size": size, "limit": self.max_command_bytes},
        )

    async def resolve(self, result: Result) -> Result:
        """A by-reference result with its value read back from the artifact store."""
        ref = result.result
        if self.artifacts is None or not isinstance(ref, dict) or not is_reference(ref):
            return result
        if ref.get("content_type") != JSON:
            return result
        return result.model_copy(update={"result": await load_result_value(ref, self.artifacts)})

    async def send_raw(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        await self.start()
        assert self.producer is not None
        await self.producer.send_and_wait(topic, key=key, value=value)

    async def submit(
        self, worker_type: str, command_type: str, payload: dict[str, Any], **fields: Any
    ) -> str:
        """Send a command; return its id without waiting for the result."""
        return await self.send(worker_type, self.command(command_type, payload, **fields))

    async def call(
        self,
        worker_type: str,
        command_type: str,
        payload: dict[str, Any],
        *,
        timeout: float = 30.0,
        **fields: Any,
    ) -> Result:
        """Send a command and await its terminal result (raises on timeout)."""
        fields.setdefault("timeout_ms", int(timeout * 1000))
        command = self.command(command_type, payload, **fields)
        return await self.call_command(worker_type, command, timeout=timeout)

    async def call_command(self, worker_type: str, command: Command, *, timeout: float) -> Result:
        listener = await self.listen(worker_type)
        await self.send(worker_type, command)
        return await self.resolve(await listener.wait(command.command_id, timeout))

    async def wait(self, worker_type: str, command_id: str, timeout: float) -> Result:
        listener = await self.listen(worker_type)
        return await self.resolve(await listener.wait(command_id, timeout))


def new_client_name(prefix: str = "enginedge-cli") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"

"""Apache Kafka, single-node KRaft, from the jars on Maven Central, on loopback."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import uuid
from importlib import resources
from pathlib import Path

from enginedge_streams.settings import broker_message_max_bytes
from enginedge_streams.stack.base import ServiceStatus, port_open, stack_dir, wait_for
from enginedge_streams.stack.process import ManagedProcess

LOG4J = """log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
"""


class KafkaService:
    name = "kafka"

    def __init__(
        self,
        root: Path | None = None,
        *,
        port: int | None = None,
        controller_port: int | None = None,
        libs: Path | None = None,
    ) -> None:
        """A broker rooted at ``root``/kafka; tests may run a private one on other ports."""
        self.root = (root or stack_dir()) / "kafka"
        self.host = "127.0.0.1"
        self.port = port or int(os.environ.get("STACK_KAFKA_PORT", "9092"))
        self.controller_port = controller_port or int(
            os.environ.get("STACK_KAFKA_CONTROLLER_PORT", "9093")
        )
        self.libs = libs or self.root / "libs"
        self.data = self.root / "data"
        self.proc = ManagedProcess(
            "kafka", self.root / "kafka.pid", self.root / "kafka.log", "kafka.Kafka"
        )

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def installed(self) -> bool:
        return any(self.libs.glob("kafka_2.13-*.jar")) and any(self.libs.glob("reload4j-*.jar"))

    def install(self) -> None:
        if self.installed():
            return
        if shutil.which("mvn") is None:
            raise RuntimeError("Maven (mvn) is needed to resolve the Kafka jars")
        self.root.mkdir(parents=True, exist_ok=True)
        pom = self.root / "pom.xml"
        pom.write_text(
            resources.files("enginedge_streams.stack").joinpath("kafka-pom.xml").read_text()
        )
        subprocess.run(
            [
                "mvn",
                "-q",
                "-B",
                "-f",
                str(pom),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={self.libs}",
            ],
            check=True,
        )

    def _java(self) -> list[str]:
        return [
            "java",
            "-cp",
            f"{self.libs}/*",
            f"-Dlog4j.configuration=file:{self.root}/log4j.properties",
        ]

    def configure(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        props = self.root / "server.properties"
        props.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@{self.host}:{self.controller_port}",
                    f"listeners=PLAINTEXT://{self.host}:{self.port},CONTROLLER://{self.host}:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://{self.host}:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    "inter.broker.listener.name=PLAINTEXT",
                    f"log.dirs={self.data}",
                    "num.partitions=1",
                    "auto.create.topics.enable=true",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=10",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "log.retention.hours=168",
                    "delete.topic.enable=true",
                    # The bus's size budget (enginedge_streams.settings): one number everywhere.
                    f"message.max.bytes={broker_message_max_bytes()}",
                    f"replica.fetch.max.bytes={broker_message_max_bytes()}",
                    "",
                ]
            )
        )
        (self.root / "log4j.properties").write_text(LOG4J)
        return props

    def format(self, props: Path) -> None:
        if (self.data / "meta.properties").exists():
            return
        cluster_id = (
            subprocess.run(
                [*self._java(), "kafka.tools.StorageTool", "random-uuid"],
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
            or uuid.uuid4().hex
        )
        subprocess.run(
            [
                *self._java(),
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(props),
            ],
            check=True,
            capture_output=True,
        )

    def start(self, timeout: float = 240.0) -> None:
        self.install()
        props = self.configure()
        self.format(props)
        if not self.proc.running():
            if port_open(self.host, self.port):
                raise RuntimeError(f"port {self.port} is taken by another process")
            heap = os.environ.get("STACK_KAFKA_HEAP", "768m")
            self.proc.start(
                [
                    *self._java(),
                    f"-Xmx{heap}",
                    f"-Xms{heap}",
                    "-XX:+UseG1GC",
                    "kafka.Kafka",
                    str(props),
                ]
            )
        wait_for(self.ready, timeout, f"Kafka at {self.address}")

    def ready(self) -> bool:
        if not self.proc.alive():
            raise RuntimeError(f"Kafka exited; see {self.proc.log_file}")
        return port_open(self.host, self.port) and _metadata_ok(self.address)

    def stop(self) -> None:
        self.proc.stop(timeout=60)

    def status(self) -> ServiceStatus:
        return self.proc.status(self.address, "installed" if self.installed() else "not installed")


def _metadata_ok(address: str) -> bool:
    import asyncio

    from aiokafka.admin import AIOKafkaAdminClient

    async def probe() -> bool:
        admin = AIOKafkaAdminClient(bootstrap_servers=address, request_timeout_ms=3000)
        try:
            await admin.start()
            await admin.list_topics()
            return True
        except Exception:
            return False
        finally:
            with contextlib.suppress(Exception):
                await admin.close()

    return asyncio.run(probe())

"""Every place that configures the bus uses the one size budget from the settings."""

from __future__ import annotations

from pathlib import Path

import yaml

from enginedge_streams.settings import (
    BUS_MAX_MESSAGE_BYTES,
    FETCH_MAX_BYTES,
    MAX_COMMAND_BYTES,
    MAX_RESULT_BYTES,
    Settings,
    broker_message_max_bytes,
    load,
)

ROOT = Path(__file__).resolve().parents[2]
BROKER = broker_message_max_bytes()


def test_local_stack_broker(tmp_path):
    from enginedge_streams.stack.kafka import KafkaService

    props = KafkaService(root=tmp_path, port=1, controller_port=2).configure().read_text()
    lines = dict(line.split("=", 1) for line in props.splitlines() if "=" in line)
    assert int(lines["message.max.bytes"]) == BROKER
    assert int(lines["replica.fetch.max.bytes"]) == BROKER


def test_compose_broker():
    compose = yaml.safe_load((ROOT / "docker/docker-compose.workers.dev.yml").read_text())
    env = compose["services"]["kafka"]["environment"]
    assert int(env["KAFKA_MESSAGE_MAX_BYTES"]) == BROKER
    assert int(env["KAFKA_REPLICA_FETCH_MAX_BYTES"]) == BROKER


def test_kubernetes_configmap():
    config = yaml.safe_load((ROOT / "manifests/shared-config.yaml").read_text())["data"]
    assert int(config["BUS_MAX_MESSAGE_BYTES"]) == BUS_MAX_MESSAGE_BYTES
    assert int(config["MAX_COMMAND_BYTES"]) == MAX_COMMAND_BYTES
    assert int(config["MAX_RESULT_BYTES"]) == MAX_RESULT_BYTES
    assert config["ARTIFACT_STORE"] == "s3"  # replicas share blobs only through S3
    # The ConfigMap's values are valid settings (the budget check passes).
    load(Settings, **{k.lower(): v for k, v in config.items() if k.isupper()})


def test_workers_producers_and_consumers():
    from enginedge_streams.faust_app import create_app

    s = load(Settings)
    conf = create_app(s, "spacy").conf
    assert conf.producer_max_request_size == BUS_MAX_MESSAGE_BYTES
    assert conf.producer_compression_type == "lz4"
    assert conf.consumer_max_fetch_size == BROKER


def test_client_producer_and_listener():
    from enginedge_streams.client import BusClient, _ResultListener

    client = BusClient.from_settings(load(Settings), claim_checks=False)
    assert client.max_message_bytes == BUS_MAX_MESSAGE_BYTES
    assert client.compression_type == "lz4"
    assert client.max_command_bytes == MAX_COMMAND_BYTES
    listener = _ResultListener(["x:1"], "t", {0})
    assert listener.max_message_bytes == BUS_MAX_MESSAGE_BYTES
    assert FETCH_MAX_BYTES >= BROKER

"""Codec, policy, settings and log redaction."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from enginedge_streams.codec import decode_command
from enginedge_streams.errors import ConfigError, DecodeError, RateLimitedError
from enginedge_streams.logs import JsonFormatter, Redactor, command_context
from enginedge_streams.policy import RetryPolicy, classify
from enginedge_streams.records import Command
from enginedge_streams.settings import Settings, load, secret_values


def test_decode_valid_command_from_plain_json():
    raw = b'{"command_id":"a1","command_type":"nlp.analyze","payload":{"text":"hi"}}'
    cmd = decode_command(raw, max_bytes=1000)
    assert cmd.command_id == "a1" and cmd.payload == {"text": "hi"} and cmd.attempt == 1


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"[1,2]",
        b'"x"',
        b'{"command_type": 5}',
        b'{"command_type":"nlp.analyze","payload":[]}',
        b'{"command_type":"nlp.analyze","bogus":1}',
    ],
)
def test_decode_rejects_non_commands(raw):
    with pytest.raises(DecodeError):
        decode_command(raw, max_bytes=1000)


def test_deadline_from_timeout_and_default():
    created = datetime(2026, 1, 1, tzinfo=UTC)
    cmd = Command(command_type="a.b", created_at=created, timeout_ms=1500)
    assert cmd.effective_deadline(60) == created + timedelta(milliseconds=1500)
    assert Command(command_type="a.b", created_at=created).effective_deadline(
        60
    ) == created + timedelta(seconds=60)


def test_backoff_grows_with_jitter_and_honours_retry_after():
    policy = RetryPolicy(5, 0.1, 1.0)
    for attempt, ceiling in ((1, 0.1), (2, 0.2), (3, 0.4), (5, 1.0), (9, 1.0)):
        d = policy.delay(attempt)
        assert ceiling / 2 <= d <= ceiling
    assert policy.delay(1, retry_after=0.7) >= 0.7
    assert policy.delay(1, retry_after=50) == 1.0  # capped


def test_classify():
    assert classify(RateLimitedError("x")).retryable
    assert classify(ConnectionResetError("x")).retryable
    info = classify(ValueError("bad"))
    assert info.code == "INTERNAL_ERROR" and not info.retryable


def test_missing_or_invalid_setting_names_the_variable(monkeypatch):
    monkeypatch.setenv("MAX_CONCURRENCY", "lots")
    with pytest.raises(ConfigError, match="MAX_CONCURRENCY"):
        load(Settings)
    monkeypatch.setenv("MAX_CONCURRENCY", "2")
    monkeypatch.setenv("LOG_LEVEL", "chatty")
    with pytest.raises(ConfigError, match="LOG_LEVEL"):
        load(Settings)


def test_worker_type_required_and_validated(monkeypatch):
    from enginedge_streams.bootstrap import worker_types

    with pytest.raises(ConfigError, match="WORKER_TYPE is required"):
        worker_types(Settings(worker_type=""))
    with pytest.raises(ConfigError, match="unknown worker type 'nope'"):
        worker_types(Settings(worker_type="nope"))
    assert "spacy" in worker_types(Settings(worker_type="all"))


def test_default_ports_follow_the_guide():
    s = Settings()
    assert s.web_port_for("llm") == 3001 and s.web_port_for("news") == 3009
    assert s.web_port_for("spacy") == 8001
    assert Settings(port=9000).web_port_for("spacy") == 9000


def test_secret_values_and_redaction(monkeypatch):
    monkeypatch.setenv("API_TOKEN", "tok-very-secret-123")
    settings = load(Settings)
    assert "tok-very-secret-123" in secret_values(settings)
    assert "tok-very-secret-123" not in repr(settings)
    redact = Redactor(secret_values(settings))
    text = (
        "token tok-very-secret-123 Authorization: Bearer abcdefghijklmnop "
        "key sk-proj-ABCDEFGHIJKL password=hunter22 jwt eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl"
    )
    out = redact(text)
    for secret in (
        "tok-very-secret-123",
        "abcdefghijklmnop",
        "sk-proj-ABCDEFGHIJKL",
        "hunter22",
        "eyJzdWIiOiIx",
    ):
        assert secret not in out


def test_json_log_line_has_the_guide_fields():
    fmt = JsonFormatter(worker_type="spacy", redactor=Redactor(["s3cr3t-value"]))
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "done with %s", ("s3cr3t-value",), None
    )
    record.processingTime = 12.5
    record.model = "m"
    record.tokensUsed = 42
    with command_context("cmd-1", "corr-1"):
        line = fmt.format(record)
    data = json.loads(line)
    assert data["workerType"] == "spacy" and data["commandId"] == "cmd-1"
    assert data["correlationId"] == "corr-1" and data["level"] == "info"
    assert data["processingTime"] == 12.5 and data["model"] == "m" and data["tokensUsed"] == 42
    assert "s3cr3t-value" not in line and data["timestamp"].endswith("+00:00")


def test_dev_identity_key_is_created_once_private_and_valid(tmp_path, monkeypatch):
    from agents.identity.aesgcm_cipher import parse_key
    from enginedge_streams.cli.main import dev_identity_key

    monkeypatch.setenv("STACK_DIR", str(tmp_path))
    path = dev_identity_key()
    key = path.read_text().strip()
    assert len(parse_key(key)) == 32
    assert path.stat().st_mode & 0o777 == 0o600
    assert dev_identity_key().read_text().strip() == key  # stable across runs

"""The identity worker refuses to start without a valid IDENTITY_ENCRYPTION_KEY."""

from __future__ import annotations

import base64
import os

import pytest

from agents.identity import agent
from agents.identity.aesgcm_cipher import AesGcmCipher, parse_key
from enginedge_streams.container import Container
from enginedge_streams.errors import ConfigError, PermanentError
from enginedge_streams.faust_app import create_app
from enginedge_streams.settings import Settings


def _register(tmp_path):
    settings = Settings(worker_type="identity", topic_prefix="cfgtest.", data_dir=tmp_path)
    app = create_app(settings, "identity")
    return agent.register(app, Container(settings=settings))


def test_missing_key_fails_at_start_naming_the_variable(monkeypatch, tmp_path):
    monkeypatch.delenv("IDENTITY_ENCRYPTION_KEY", raising=False)
    with pytest.raises(ConfigError, match="IDENTITY_ENCRYPTION_KEY is required"):
        _register(tmp_path)


@pytest.mark.parametrize("bad", ["not base64 !!", base64.urlsafe_b64encode(b"short").decode()])
def test_invalid_key_fails_at_start(monkeypatch, tmp_path, bad):
    monkeypatch.setenv("IDENTITY_ENCRYPTION_KEY", bad)
    with pytest.raises(ConfigError, match="IDENTITY_ENCRYPTION_KEY"):
        _register(tmp_path)


def test_valid_key_wires_the_worker(monkeypatch, tmp_path):
    monkeypatch.setenv("IDENTITY_ENCRYPTION_KEY", base64.urlsafe_b64encode(os.urandom(32)).decode())
    runtime = _register(tmp_path)
    assert {"auth.login", "oauth.callback", "keys.rotate"} <= set(runtime.handlers)
    assert runtime.handlers["auth.login"].spec.sensitive


def test_cipher_is_authenticated_and_purpose_bound():
    key = os.urandom(32)
    c = AesGcmCipher(key)
    sealed = c.encrypt(b"secret", purpose="a")
    assert c.decrypt(sealed, purpose="a") == b"secret" and b"secret" not in sealed.encode()
    with pytest.raises(PermanentError):
        c.decrypt(sealed, purpose="b")
    with pytest.raises(PermanentError):
        AesGcmCipher(os.urandom(32)).decrypt(sealed, purpose="a")
    assert parse_key(base64.urlsafe_b64encode(key).decode().rstrip("=")) == key

"""A fake OpenAI/Anthropic server on 127.0.0.1, shared by the module's tests."""

from __future__ import annotations

import pytest

from tests.support.fake_llm_server import FakeLlmServer


@pytest.fixture(scope="module")
def llm_server():
    server = FakeLlmServer().start()
    yield server
    server.stop()

"""Secrets never leave a worker: not in its log, not in its results.

A dedicated LLM worker gets every dummy secret of the project (provider keys, the
identity key, OAuth and calendar secrets, a Redis URL with a password...) and
talks to a hostile provider that answers 401 *echoing the key it was sent* in
its error message, the way real providers quote a wrong key. The session-wide
scan (``tests/support/secrets_scan.py``) checks everything else at the end.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiohttp import web

from tests.support.secrets_scan import dedicated_env, find, secret_values
from tests.support.workers import WorkerProcess

pytestmark = pytest.mark.integration


class EchoingProvider:
    """OpenAI/Anthropic-shaped endpoints that refuse every key and quote it back."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.port = 0
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()

    async def _refuse(self, request: web.Request) -> web.Response:
        key = request.headers.get("Authorization", "") or request.headers.get("x-api-key", "")
        self.seen.append(key)
        message = f"Incorrect API key provided: {key}. You can find your API key at ..."
        body = {"error": {"message": message, "type": "invalid_request_error", "code": 401}}
        return web.json_response(body, status=401)

    def start(self) -> EchoingProvider:
        threading.Thread(target=self._run, daemon=True).start()
        assert self._ready.wait(10)
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._refuse)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # started
        self._ready.set()
        self._loop.run_forever()

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def provider() -> Iterator[EchoingProvider]:
    server = EchoingProvider().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def llm(
    module_worker_factory: Callable[..., WorkerProcess], provider: EchoingProvider
) -> WorkerProcess:
    env = dedicated_env(redis=True)
    env.update(
        {
            "OPENAI_BASE_URL": f"{provider.url}/v1",
            "ANTHROPIC_BASE_URL": provider.url,
            "HUGGINGFACE_BASE_URL": provider.url,
            "LOCAL_MODEL_ENABLED": "false",
            "DEFAULT_MODEL": "gpt-4o-mini",
            "RETRY_MAX_ATTEMPTS": "1",
            "LOG_LEVEL": "debug",
        }
    )
    return module_worker_factory("llm", env=env)


async def test_provider_auth_errors_echoing_the_key_leak_nothing(
    llm: WorkerProcess, provider: EchoingProvider, module_bus: Any
) -> None:
    commands: list[tuple[str, dict[str, Any]]] = [
        ("assistant.complete", {"prompt": "hello"}),
        ("assistant.complete", {"prompt": "hello", "model": "claude-3-5-haiku-latest"}),
        ("assistant.chat", {"conversation_id": f"c-{uuid.uuid4().hex[:6]}", "message": "hi"}),
        # Input with a key-looking value that fails validation (the stored command keeps
        # its input, so this is not one of the configured secrets).
        ("assistant.complete", {"prompt": 5, "api_key": "sk-user-supplied-0123456789"}),
        ("models.list", {}),
    ]
    results = await asyncio.gather(
        *(module_bus.call("llm", ct, payload, timeout=90) for ct, payload in commands)
    )
    statuses = [r.status.value for r in results]
    assert statuses[:4] == ["FAILED"] * 4, [r.error for r in results]
    assert any(r.error is not None and "401" in json.dumps(r.error.model_dump()) for r in results)
    # The provider really was sent the keys (so the echo path was exercised)...
    assert any(find(seen) for seen in provider.seen), "the provider never saw a dummy key"
    # ... and none of them came back out.
    for result in results:
        assert not find(result.model_dump_json()), result.error
    log = "\n".join(llm.log_lines())
    assert log and not find(log)
    assert len(secret_values()) >= 15


def test_the_worker_log_is_json_and_names_no_secret_setting_value(llm: WorkerProcess) -> None:
    lines = [line for line in llm.log_lines() if line.startswith("{")]
    assert lines
    for line in lines:
        json.loads(line)
    assert not find("\n".join(llm.log_lines()))

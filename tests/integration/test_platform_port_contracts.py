"""The platform ports whose real adapters need a server, held to the same contract as
their fakes: the Redis connection (real local Redis) and the ``HttpFetcher``
(``SafeHttpClient`` against an HTTP server on 127.0.0.1)."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from aiohttp import web

from enginedge_streams.adapters.redis_client import RedisClient
from enginedge_streams.safe_http import HttpResponse, SafeHttpClient, SafeHttpPolicy
from enginedge_streams.testing.http_fetcher import StaticHttpFetcher
from enginedge_streams.testing.redis import FakeRedisClient
from tests.support.stack import REDIS_URL


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("kind", ["real", "fake"])
async def test_a_redis_connection_pings_while_the_server_is_up(kind):
    client: Any = RedisClient(REDIS_URL) if kind == "real" else FakeRedisClient()
    await client.start()
    try:
        assert await client.ping() is True
    finally:
        await client.stop()


@pytest.mark.parametrize("kind", ["real", "fake"])
async def test_a_redis_connection_answers_false_when_the_server_is_down(kind):
    if kind == "real":
        client: Any = RedisClient(f"redis://127.0.0.1:{_closed_port()}/0")
    else:
        client = FakeRedisClient(up=False)
    await client.start()
    try:
        assert await client.ping() is False
    finally:
        await client.stop()


@pytest.fixture
async def site():
    async def page(request: web.Request) -> web.Response:
        return web.Response(text="hello " + request.match_info["name"], content_type="text/plain")

    app = web.Application()
    app.router.add_get("/hello/{name}", page)
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.mark.parametrize("kind", ["safe_http", "static"])
async def test_a_fetcher_returns_status_body_and_final_url(kind, site):
    url = f"{site}/hello/bob"
    if kind == "safe_http":
        fetcher: Any = SafeHttpClient(SafeHttpPolicy(allow_loopback=True))
        await fetcher.start()
    else:
        fetcher = StaticHttpFetcher(
            {url: HttpResponse(200, {"content-type": "text/plain"}, b"hello bob", url)}
        )
    try:
        response = await fetcher.fetch(url)
    finally:
        if kind == "safe_http":
            await fetcher.stop()
    assert response.status == 200 and response.body == b"hello bob"
    assert response.url == url and response.content_type == "text/plain"

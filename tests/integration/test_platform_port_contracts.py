"""The platform ports whose real adapters need a server, held to the same contract as
their fakes: the Redis connection (real local Redis) and the ``HttpFetcher``
(``SafeHttpClient`` against an HTTP server on 127.0.0.1, the in-process
``RoutedHttpFetcher`` against the same site)."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from aiohttp import web

from enginedge_streams.adapters.redis_client import RedisClient
from enginedge_streams.errors import LimitExceededError
from enginedge_streams.safe_http import (
    HttpResponse,
    SafeHttpClient,
    SafeHttpPolicy,
    UrlRefusedError,
)
from enginedge_streams.testing.http_fetcher import HttpRequest, RoutedHttpFetcher, StaticHttpFetcher
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


async def answer(request: HttpRequest) -> HttpResponse:
    """The site of the fetcher contract, for HTTP (``site``) and in process (``routed``)."""
    path = request.path
    if path.startswith("/hello/"):
        name = path.removeprefix("/hello/")
        return HttpResponse(200, {"Content-Type": "text/plain"}, f"hello {name}".encode(), "")
    if path == "/hop":
        return HttpResponse(302, {"Location": "/hello/hop"}, b"", "")
    if path == "/internal":
        return HttpResponse(302, {"Location": "http://169.254.169.254/latest/"}, b"", "")
    if path == "/big":
        return HttpResponse(200, {"Content-Type": "text/plain"}, b"x" * 5000, "")
    return HttpResponse(404, {}, b"", "")


@pytest.fixture
async def site():
    async def page(request: web.Request) -> web.Response:
        got = await answer(HttpRequest(request.method, str(request.url), dict(request.headers)))
        return web.Response(status=got.status, headers=got.headers, body=got.body)

    app = web.Application()
    app.router.add_get("/{path:.*}", page)
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


def fetcher_of(kind: str, site: str, **policy: Any) -> Any:
    if kind == "safe_http":
        return SafeHttpClient(SafeHttpPolicy(allow_loopback=True, **policy))
    return RoutedHttpFetcher({site: answer}, SafeHttpPolicy(allow_loopback=True, **policy))


@pytest.mark.parametrize("kind", ["safe_http", "routed"])
async def test_a_fetcher_follows_redirects_checks_every_hop_and_caps_the_body(kind, site):
    fetcher = fetcher_of(kind, site, max_bytes=1000)
    try:
        hop = await fetcher.fetch(f"{site}/hop")
        assert hop.status == 200 and hop.body == b"hello hop"
        assert hop.url == f"{site}/hello/hop" and hop.redirects == [f"{site}/hop"]
        with pytest.raises(UrlRefusedError, match=r"169\.254\.169\.254"):
            await fetcher.fetch(f"{site}/internal")
        with pytest.raises(LimitExceededError):
            await fetcher.fetch(f"{site}/big")
        assert (await fetcher.fetch(f"{site}/nothing")).status == 404
    finally:
        if kind == "safe_http":
            await fetcher.stop()


@pytest.mark.parametrize("kind", ["safe_http", "static", "routed"])
async def test_a_fetcher_returns_status_body_and_final_url(kind, site):
    url = f"{site}/hello/bob"
    if kind in ("safe_http", "routed"):
        fetcher: Any = fetcher_of(kind, site)
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

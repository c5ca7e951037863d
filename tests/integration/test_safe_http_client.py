"""``SafeHttpClient`` against an HTTP server on 127.0.0.1: loopback only with the test switch,
every redirect hop checked, the body limit enforced while reading."""

from __future__ import annotations

import pytest
from aiohttp import web

from enginedge_streams.errors import LimitExceededError
from enginedge_streams.safe_http import SafeHttpClient, SafeHttpPolicy, UrlRefusedError


@pytest.fixture
async def server(aiohttp_unused_port=None):
    app = web.Application()

    async def ok(request):
        return web.Response(text="hello", headers={"ETag": '"v1"'})

    async def big(request):
        return web.Response(body=b"x" * 5000)

    async def to_internal(request):
        raise web.HTTPFound("http://169.254.169.254/latest/meta-data/")

    async def hop(request):
        raise web.HTTPFound("/ok")

    app.router.add_get("/ok", ok)
    app.router.add_get("/big", big)
    app.router.add_get("/internal", to_internal)
    app.router.add_get("/hop", hop)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_loopback_only_with_the_test_switch_and_limits(server):
    closed = SafeHttpClient(SafeHttpPolicy())
    with pytest.raises(UrlRefusedError):
        await closed.fetch(f"{server}/ok")
    await closed.stop()
    client = SafeHttpClient(SafeHttpPolicy(allow_loopback=True, max_bytes=1000))
    try:
        resp = await client.fetch(f"{server}/hop")
        assert resp.status == 200 and resp.text() == "hello" and resp.redirects
        assert resp.headers["etag"] == '"v1"'
        with pytest.raises(UrlRefusedError, match=r"169\.254\.169\.254"):
            await client.fetch(f"{server}/internal")
        with pytest.raises(LimitExceededError):
            await client.fetch(f"{server}/big")
    finally:
        await client.stop()
    localhost = SafeHttpClient(SafeHttpPolicy(allow_loopback=True))
    try:
        port = server.rsplit(":", 1)[1]
        assert (await localhost.fetch(f"http://localhost:{port}/ok")).status == 200
    finally:
        await localhost.stop()

"""SSRF suite through the tool worker on the real bus: every hostile URL is refused, clearly.

The worker runs with the production policy (no loopback switch). Each URL is
tried with both fetching tools in one parallel ``tool.execute_batch``.
"""

from __future__ import annotations

import pytest

from enginedge_streams.records import Status
from tests.support.fake_llm_server import FakeLlmServer

pytestmark = pytest.mark.timeout(120)

HOSTILE = [
    "http://127.0.0.1/",
    "http://localhost/",  # a name resolving to loopback
    "http://LOCALHOST:8080/",
    "http://localhost./",
    "http://2130706433/",  # decimal
    "http://0177.0.0.1/",  # octal
    "http://0x7f.0.0.1/",  # hex
    "http://127.1/",  # short form
    "http://0/",
    "http://0.0.0.0/",
    "http://[::]/",
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::ffff:127.0.0.1]/",  # IPv6-mapped
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",  # CGNAT
    "http://198.18.0.1/",  # benchmarking range
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://[fd00:ec2::254]/",  # IPv6 metadata
    "http://[fe80::1]/",
    "http://224.0.0.1/",
    "http://127.0.0.1:6379/",  # the local Redis
    "http://%31%32%37.0.0.1/",  # percent-encoded host
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "dict://127.0.0.1:6379/info",
    "ftp://example.com/",
    "http://user:pass@example.com/",
    "http:///nohost",
]


@pytest.fixture(scope="module")
def server():
    with FakeLlmServer() as s:
        yield s


@pytest.fixture(scope="module")
def strict_tool_worker(module_worker_factory):
    return module_worker_factory(
        "agent_tool",
        env={
            "MAX_TOOL_EXECUTIONS_PER_COMMAND": "200",
            "TOOL_RATE_LIMITS": "http_request=1000,web_page_text=1000",
        },
    )


async def test_every_hostile_url_is_refused_with_a_clear_error(
    strict_tool_worker, server, module_bus
):
    urls = [*HOSTILE, server.page_url]  # even a real, listening local server
    assert len(urls) >= 25
    calls = [
        {"tool": tool, "args": {"url": u}}
        for u in urls
        for tool in ("http_request", "web_page_text")
    ]
    result = await module_bus.call(
        "agent_tool", "tool.execute_batch", {"calls": calls, "mode": "parallel"}, timeout=90
    )
    assert result.status is Status.COMPLETED, result.error
    items = result.result["results"]
    assert result.result["succeeded"] == 0 and len(items) == len(calls)
    for call, item in zip(calls, items, strict=True):
        assert not item["ok"], call
        assert item["error"]["code"] == "URL_REFUSED", (call, item["error"])
        assert item["error"]["retryable"] is False
        assert item["error"]["message"], call


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "not a public address"),
        ("http://localhost/", "non-public address 127.0.0.1"),
        ("file:///etc/passwd", "scheme 'file' is not allowed"),
        ("http://[::ffff:10.0.0.1]/", "not a public address"),
    ],
)
async def test_single_calls_name_the_reason(strict_tool_worker, module_bus, url, reason):
    r = await module_bus.call(
        "agent_tool", "tool.execute", {"tool": "http_request", "args": {"url": url}}, timeout=30
    )
    assert r.status is Status.FAILED and r.error.code == "URL_REFUSED"
    assert reason in r.error.message, r.error.message

"""The safe HTTP policy: hostile URLs refused before any connection. The client against a
server (redirects, limits, loopback switch) is in ``tests/integration/test_safe_http_client.py``."""

from __future__ import annotations

import pytest

from enginedge_streams.safe_http import (
    SafeHttpClient,
    SafeHttpPolicy,
    UrlRefusedError,
    address_allowed,
    check_url,
    parse_ip,
)

HOSTILE = [
    "http://127.0.0.1/",
    "http://localhost/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://0x7f.0.0.1/",
    "http://127.1/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://[::]/",
    "http://224.0.0.1/",
    "http://[fe80::1]/",
    "http://[64:ff9b::a00:1]/",
    "http://[2002:7f00:1::]/",
    "file:///etc/passwd",
    "gopher://example.com/",
    "ftp://example.com/",
    "http://user:pass@example.com/",
    "http:///nohost",
    "http://240.0.0.1/",
]


@pytest.mark.parametrize("url", HOSTILE)
async def test_hostile_urls_are_refused(url):
    client = SafeHttpClient(SafeHttpPolicy())
    try:
        with pytest.raises(UrlRefusedError):
            await client.fetch(url)
    finally:
        await client.stop()


def test_ip_spellings_are_normalised():
    assert str(parse_ip("2130706433")) == "127.0.0.1"
    assert str(parse_ip("0177.0.0.1")) == "127.0.0.1"
    assert str(parse_ip("0x7f.1")) == "127.0.0.1"
    assert parse_ip("example.com") is None
    assert address_allowed(parse_ip("8.8.8.8"), allow_loopback=False)
    assert not address_allowed(parse_ip("::ffff:10.0.0.1"), allow_loopback=True)


def test_allowed_domains():
    policy = SafeHttpPolicy(allowed_domains=("example.com",))
    assert check_url("https://api.example.com/x", policy)[1] == "api.example.com"
    with pytest.raises(UrlRefusedError, match="ALLOWED_DOMAINS"):
        check_url("https://example.org/", policy)
    with pytest.raises(UrlRefusedError):
        check_url("https://evil-example.com/", policy)
